// The Redis store under store-level faults, against a real redis-server that the test kills,
// restarts, and freezes (SIGSTOP). Pins: while Redis is down every call throws
// StoreUnavailableError (nothing queues or hangs); after a restart calls work again; a stalled
// Redis costs a caller the command timeout, not the stall. No duration is asserted: "bounded"
// is shown by calls that settle while Redis is still down or frozen, which it stays until the
// test brings it back.

import { expect } from 'vitest';
import { createRedisStore, StoreUnavailableError, type SessionRecord } from '@berth/gateway';
import { redisTest as test } from '../fixtures/redis-server.js';
import { waitFor } from '../fixtures/wait-for.js';

const record = (id: string): SessionRecord => ({
  id, tenant: 'alice', profile: 'default', sandbox: null, sdkSessionId: null, createdAt: 1, lastActivityAt: 1, turns: 0,
});

/** Recovery is asynchronous (a reconnect): pings until one answers. */
const answersAgain = (store: { ping(): Promise<unknown> }) => waitFor('Redis to answer a ping again', async () => (await store.ping(), true), { retryErrors: true });

test('Redis killed: calls throw StoreUnavailableError while it is down and work after a restart', async ({ redis }) => {
  const store = createRedisStore({ url: redis.url, keyPrefix: 'faults-kill:', commandTimeoutMs: 1000 });
  try {
    await store.sessions.createSession(record('s1'));
    await store.ping();
    await redis.kill();

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
    // Down is not "wait until it is back": every call above settled while Redis was still down
    // (it is restarted only below); a call waiting for the reconnect would hang this test.
    // A store created while Redis is down fails the same way (readiness probes stay honest).
    const late = createRedisStore({ url: redis.url, keyPrefix: 'faults-kill:', commandTimeoutMs: 1000 });
    await expect(late.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    await late.close();
    // The error never carries the connection URL (it may hold a password).
    await expect(store.sessions.getSession('s1')).rejects.toSatisfy((e: Error) => !e.message.includes(redis.url));

    await redis.restart();
    await answersAgain(store);
    // The restarted server is empty (no persistence in tests): the store works on it as new.
    expect(await store.sessions.getSession('s1')).toBeNull();
    expect(await store.sessions.createSession(record('s1'))).toEqual({ kind: 'created', session: record('s1') });
    expect((await store.sessions.checkAndTouch('s1', 'alice', 5)).kind).toBe('owned');
  } finally {
    await store.close();
  }
});

test('Redis frozen (SIGSTOP): calls reject by the command timeout while it is frozen; SIGCONT recovers', async ({ redis }) => {
  const commandTimeoutMs = 1000;
  const store = createRedisStore({ url: redis.url, keyPrefix: 'faults-stop:', commandTimeoutMs });
  let paused = false;
  try {
    await store.sessions.createSession(record('s1'));
    redis.pause();
    paused = true;

    const results = await Promise.allSettled([
      store.sessions.checkAndTouch('s1', 'alice', 2),
      store.ping(),
      store.sessions.createSession(record('s2')),
    ]);
    // Every call settled while Redis is still frozen (it resumes only below), and it was the
    // command timeout that ended each one, not a closed connection.
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
      expect(((result as PromiseRejectedResult).reason as Error).message).toContain('Redis did not answer in time');
    }

    redis.resume();
    paused = false;
    await answersAgain(store);
    expect((await store.sessions.checkAndTouch('s1', 'alice', 3)).kind).toBe('owned');
    // A command that timed out while Redis was frozen was still delivered and runs on resume:
    // a timeout means "unknown outcome", and the create retried by its caller sees 'owned'.
    expect(await store.sessions.createSession(record('s2'))).toEqual({ kind: 'owned', session: record('s2') });
  } finally {
    if (paused) redis.resume();
    await store.close();
  }
}, 30_000);
