// A local mirror of this installation's pods, kept by list + watch (never by polling): one list
// gives the state and a resourceVersion, a watch from that version streams every change after
// it. The mirror is what the pool loop and claims read; the API server stays the arbiter (the
// claim's JSON Patch `test` op), so a stale mirror costs a retry, never a double claim.
// Restarts: a watch that ends is resumed from the last version seen; a 410 Gone (version
// compacted away) forces a fresh list; a watch with no event or bookmark within
// `silenceTimeoutMs` is presumed stalled (a dead proxy or half-open connection) and restarted.

import type { V1Pod } from '@kubernetes/client-node';
import { KubeApiError, sleep, type PodApi, type WatchEventType } from './kube-api.js';

export interface PodCacheOptions {
  api: PodApi;
  labelSelector: string;
  /** Restart a watch after this long without an event or bookmark. Default 90 000 ms: real API servers send bookmarks about once a minute. */
  silenceTimeoutMs?: number;
  /** Called (synchronously) after every change to the mirror. */
  onChange: () => void;
  onWarn?: (message: string) => void;
}

export interface PodCacheStats {
  lists: number;
  watchStarts: number;
  /** Watches restarted because they went silent. */
  stalls: number;
  /** Lists forced by 410 Gone. */
  gones: number;
}

export class PodCache {
  readonly pods = new Map<string, V1Pod>();
  readonly stats: PodCacheStats = { lists: 0, watchStarts: 0, stalls: 0, gones: 0 };
  private resourceVersion = '';
  private needList = true;
  private stopped = false;
  private readonly stopController = new AbortController();
  private abortWatch: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private synced!: () => void;
  /** False while list/watch calls fail for another reason than 410 Gone (the API is unreachable or erring). */
  private apiAnswering = false;
  /** Resolves after the first successful list. */
  readonly firstSync = new Promise<void>((resolve) => (this.synced = resolve));

  constructor(private readonly options: PodCacheOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Whether the API server answered the last list/watch attempt (feeds /readyz). */
  get reachable(): boolean {
    return this.apiAnswering;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopController.abort();
    this.abortWatch?.();
    await this.loop;
  }

  /**
   * Resolves with the pod once `check` says 'ok' for the mirrored pod `name` (undefined when it
   * is absent); rejects with the reason when it says a string other than 'wait', or on timeout.
   */
  waitFor(name: string, check: (pod: V1Pod | undefined) => 'ok' | 'wait' | string, timeoutMs: number, signal?: AbortSignal): Promise<V1Pod> {
    return new Promise<V1Pod>((resolve, reject) => {
      const evaluate = (): boolean => {
        const pod = this.pods.get(name);
        const verdict = check(pod);
        if (verdict === 'wait') return false;
        cleanup();
        if (verdict === 'ok' && pod) resolve(pod);
        else reject(new Error(verdict === 'ok' ? `pod ${name} is gone` : verdict));
        return true;
      };
      const onAbort = (): void => {
        cleanup();
        reject(new Error('stopped'));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`pod ${name} not ready within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(evaluate);
        signal?.removeEventListener('abort', onAbort);
      };
      if (evaluate()) return;
      this.waiters.add(evaluate);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private readonly waiters = new Set<() => boolean>();

  private changed(): void {
    for (const waiter of [...this.waiters]) waiter();
    this.options.onChange();
  }

  /** Puts a pod the caller just got back from the API (create/patch) into the mirror early. */
  upsert(pod: V1Pod): void {
    const name = pod.metadata?.name;
    if (!name) return;
    this.pods.set(name, pod);
    this.changed();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (this.needList) await this.list();
        this.apiAnswering = true;
        const sawEvent = await this.watchOnce();
        failures = sawEvent ? 0 : failures + 1;
      } catch (error) {
        failures++;
        if (error instanceof KubeApiError && error.status === 410) {
          this.needList = true;
          this.stats.gones++;
        } else {
          this.apiAnswering = false;
          this.options.onWarn?.(`pod watch: ${(error as Error).message}`);
        }
      }
      // Back off only while nothing gets through, so a normal watch end resumes at once.
      if (failures > 0) await sleep(Math.min(5000, 100 * 2 ** Math.min(failures, 6)), this.stopController.signal);
    }
  }

  private async list(): Promise<void> {
    const { items, resourceVersion } = await this.options.api.list(this.options.labelSelector);
    this.stats.lists++;
    this.pods.clear();
    for (const pod of items) if (pod.metadata?.name) this.pods.set(pod.metadata.name, pod);
    this.resourceVersion = resourceVersion;
    this.needList = false;
    this.synced();
    this.changed();
  }

  /** One watch, until it ends, stalls or the cache stops. Resolves true when it carried any event. */
  private watchOnce(): Promise<boolean> {
    const silenceMs = this.options.silenceTimeoutMs ?? 90_000;
    return new Promise<boolean>((resolve, reject) => {
      let sawEvent = false;
      let finished = false;
      let silenceTimer: NodeJS.Timeout | undefined;
      const finish = (error: unknown): void => {
        if (finished) return;
        finished = true;
        clearTimeout(silenceTimer);
        this.abortWatch?.();
        this.abortWatch = null;
        if (error) reject(error);
        else resolve(sawEvent);
      };
      const armSilence = (): void => {
        clearTimeout(silenceTimer);
        silenceTimer = setTimeout(() => {
          this.stats.stalls++;
          this.options.onWarn?.(`pod watch silent for ${silenceMs} ms; restarting it`);
          finish(null);
        }, silenceMs);
      };
      const onEvent = (type: WatchEventType, object: unknown): void => {
        if (finished) return;
        armSilence();
        if (type === 'ERROR') {
          const status = object as { code?: number; reason?: string; message?: string };
          finish(new KubeApiError(status.code, status.reason, `watch error ${status.code ?? ''} ${status.reason ?? ''}`.trim()));
          return;
        }
        sawEvent = true;
        const pod = object as V1Pod;
        const rv = pod.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (type === 'BOOKMARK') return;
        const name = pod.metadata?.name;
        if (!name) return;
        if (type === 'DELETED') this.pods.delete(name);
        else this.pods.set(name, pod);
        this.changed();
      };
      this.stats.watchStarts++;
      armSilence();
      this.options.api
        .watch(this.options.labelSelector, this.resourceVersion, onEvent, (error) => finish(error))
        .then((abort) => {
          if (finished || this.stopped) {
            abort();
            finish(null);
          } else {
            this.abortWatch = () => {
              abort();
              finish(null);
            };
          }
        }, finish);
    });
  }
}
