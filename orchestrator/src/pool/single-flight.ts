// Shares one in-flight operation per key: concurrent claims for the same session in one process
// get the same promise, so a session never gets two sandboxes from racing requests. Across
// processes (gateway replicas) the gateway store's provisioning lock (SandboxBindings) does this job instead.

export class SingleFlight<K, V> {
  readonly #inflight = new Map<K, Promise<V>>();

  /** Runs `fn` unless an operation for `key` is in flight, in which case its promise is returned. */
  run(key: K, fn: () => Promise<V>): Promise<V> {
    const existing = this.#inflight.get(key);
    if (existing) return existing;
    // fn runs in a later microtask, so the entry is in the map before fn can settle or throw;
    // the identity check keeps a finished run from deleting a newer run's entry.
    const promise: Promise<V> = Promise.resolve()
      .then(fn)
      .finally(() => {
        if (this.#inflight.get(key) === promise) this.#inflight.delete(key);
      });
    this.#inflight.set(key, promise);
    return promise;
  }

  get(key: K): Promise<V> | undefined {
    return this.#inflight.get(key);
  }

  /** Resolves once every operation in flight now has settled (never rejects). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#inflight.values()]);
  }
}
