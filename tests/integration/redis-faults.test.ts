// The Redis store under store-level faults, against a real redis-server that the test kills,
// restarts, and freezes (SIGSTOP). Pins: while Redis is down every call throws
// StoreUnavailableError (nothing queues or hangs); after a restart calls work again; a stalled
// Redis costs a caller at most about the command timeout. Timing bounds are generous on
// purpose (the machines are shared); they only tell "bounded by the timeout" from "waited for
// Redis to come back".

import { expect } from 'vitest';
import { createRedisStore, StoreUnavailableError, type SessionRecord } from '@berth/gateway';
import { redisTest as test } from '../fixtures/redis-server.js';

const record = (id: string): SessionRecord => ({
  id, tenant: 'alice', profile: 'default', sandbox: null, sdkSessionId: null, createdAt: 1, lastActivityAt: 1, turns: 0,
});

/** Retries `call` until it resolves, for at most `boundMs`; recovery is asynchronous (reconnect). */
async function eventually<T>(call: () => Promise<T>, boundMs = 15_000): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test('Redis killed: calls throw StoreUnavailableError while it is down and work after a restart', async ({ redis }) => {
  const store = createRedisStore({ url: redis.url, keyPrefix: 'faults-kill:', commandTimeoutMs: 1000 });
  try {
    await store.sessions.createSession(record('s1'));
    await store.ping();
    await redis.kill();

    const started = Date.now();
    const calls = [
      store.ping(),
      store.sessions.checkAndTouch('s1', 'alice', 2),
      store.sessions.createSession(record('s2')),
      store.transcripts.appendTranscript('s1', [{ sdkSessionId: 'x', subpath: '', entry: { type: 'user', uuid: 'u1' } }]),
      store.standbys.popStandby('p'),
      store.bindings.idleSessions(10, 10),
    ];
    for (const result of await Promise.allSettled(calls)) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
    }
    // Down is not "wait until it is back": far below any reconnect-until-success loop.
    expect(Date.now() - started).toBeLessThan(5000);
    // A store created while Redis is down fails the same way (readiness probes stay honest).
    const late = createRedisStore({ url: redis.url, keyPrefix: 'faults-kill:', commandTimeoutMs: 1000 });
    await expect(late.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    await late.close();
    // The error never carries the connection URL (it may hold a password).
    await expect(store.sessions.getSession('s1')).rejects.toSatisfy((e: Error) => !e.message.includes(redis.url));

    await redis.restart();
    await eventually(() => store.ping());
    // The restarted server is empty (no persistence in tests): the store works on it as new.
    expect(await store.sessions.getSession('s1')).toBeNull();
    expect(await store.sessions.createSession(record('s1'))).toEqual({ kind: 'created', session: record('s1') });
    expect((await store.sessions.checkAndTouch('s1', 'alice', 5)).kind).toBe('owned');
  } finally {
    await store.close();
  }
});

test('Redis frozen (SIGSTOP 5 s): calls reject within about the command timeout; SIGCONT recovers', async ({ redis }) => {
  const commandTimeoutMs = 1000;
  const store = createRedisStore({ url: redis.url, keyPrefix: 'faults-stop:', commandTimeoutMs });
  let paused = false;
  try {
    await store.sessions.createSession(record('s1'));
    redis.pause();
    paused = true;
    const frozenAt = Date.now();

    const started = Date.now();
    const results = await Promise.allSettled([
      store.sessions.checkAndTouch('s1', 'alice', 2),
      store.ping(),
      store.sessions.createSession(record('s2')),
    ]);
    const waitedMs = Date.now() - started;
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
    }
    // Generous: bounded by the timeout (1 s) plus scheduling noise, well short of the 5 s freeze.
    expect(waitedMs).toBeGreaterThanOrEqual(commandTimeoutMs - 50);
    expect(waitedMs).toBeLessThan(4000);

    await new Promise((r) => setTimeout(r, Math.max(0, 5000 - (Date.now() - frozenAt))));
    redis.resume();
    paused = false;
    await eventually(() => store.ping());
    expect((await store.sessions.checkAndTouch('s1', 'alice', 3)).kind).toBe('owned');
    // A command that timed out while Redis was frozen was still delivered and runs on resume:
    // a timeout means "unknown outcome", and the create retried by its caller sees 'owned'.
    expect(await store.sessions.createSession(record('s2'))).toEqual({ kind: 'owned', session: record('s2') });
  } finally {
    if (paused) redis.resume();
    await store.close();
  }
}, 30_000);
