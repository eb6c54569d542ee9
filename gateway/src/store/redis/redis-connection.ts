// The ioredis client behind the Redis store: how it is built from options (URL, Sentinel or Cluster),
// the failure policy (bounded waits, no offline queue), and how transport failures become the
// port's StoreUnavailableError. It knows nothing about keys or scripts.

import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { StoreUnavailableError } from '../store-unavailable.js';

export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` (TLS). Ignored when `sentinels` is set. */
  url?: string;
  /** Sentinel addresses; with `sentinelName`, ioredis asks them for the current master and follows failovers. */
  sentinels?: Array<{ host: string; port: number }>;
  /** Master group name the sentinels monitor. Default 'mymaster' (Redis' own example name). */
  sentinelName?: string;
  /**
   * Redis Cluster seed nodes (any reachable subset); the client learns the slot map from them and
   * follows MOVED/ASK redirections. Wins over `sentinels` and `url`.
   */
  clusterNodes?: Array<{ host: string; port: number }>;
  /**
   * Longest wait for one Redis reply, in milliseconds. Default 2000: far above a healthy round
   * trip (~0.1 ms) and the slowest script here (a large transcript batch append), yet short enough
   * that a stalled Redis turns a caller's request into a prompt 503 instead of a hang that
   * outlives the caller's patience and piles up sockets. Raising it delays failure detection;
   * lowering it below a replication or failover hiccup turns hiccups into errors.
   */
  commandTimeoutMs?: number;
  /** Extra ioredis options (TLS, password, db, ...); berth's failure policy below is applied on top. */
  redisOptions?: RedisOptions;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;

/**
 * Longest pause between reconnect attempts, in milliseconds. Default 1000: a restarted Redis is
 * noticed within a second (ioredis' own cap is 5 s) at the cost of one connect per second per
 * replica while it is down.
 */
const MAX_RECONNECT_DELAY_MS = 1000;

/**
 * Failure policy. While the connection is down, commands fail at once instead of queueing
 * (enableOfflineQueue false): a queued command that timed out for its caller would still be
 * sent after reconnecting, a write the caller was told failed. maxRetriesPerRequest 0 and no
 * resend of unfulfilled commands reject in-flight commands when the socket closes, for the same
 * reason. The command timeout bounds the one remaining wait: a connection that is up but stalled.
 */
export function failurePolicy(commandTimeoutMs: number): RedisOptions {
  return {
    commandTimeout: commandTimeoutMs,
    connectTimeout: commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, MAX_RECONNECT_DELAY_MS),
  };
}

export function createRedisClient(options: RedisConnectionOptions): RedisClient {
  const policy = failurePolicy(options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
  if (options.clusterNodes?.length) {
    // The same policy per node connection; reconnects to the cluster as a whole follow the
    // cluster-level strategy instead of each node's own.
    const { retryStrategy, ...nodePolicy } = policy;
    return new Cluster(options.clusterNodes, {
      enableOfflineQueue: false,
      clusterRetryStrategy: retryStrategy,
      redisOptions: { ...options.redisOptions, ...nodePolicy },
    });
  }
  if (options.sentinels?.length) {
    return new Redis({ ...options.redisOptions, ...policy, sentinels: options.sentinels, name: options.sentinelName ?? 'mymaster' });
  }
  if (!options.url) throw new TypeError('the Redis store needs a url, sentinels, or a client');
  return new Redis(options.url, { ...options.redisOptions, ...policy });
}

/** Runs one Redis call after the readiness wait, its errors mapped to the store's: every Redis port's calls go through it. */
export async function runOnRedis<T>(client: RedisClient, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  try {
    if (client.status !== 'ready') await whenReady(client, timeoutMs);
    return await call();
  } catch (error) {
    throw toStoreError(error);
  }
}

/**
 * Resolves when the client can take a command. With the offline queue off, a command sent while
 * the first connection (or a reconnect attempt) is still being made would fail needlessly, so
 * this waits for that attempt, at most `timeoutMs`. Between attempts (Redis known down) and
 * after close it throws at once. Concurrent callers share one wait (one set of listeners).
 */
export async function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  const status = client.status;
  if (status === 'ready') return;
  if (status === 'wait') client.connect().catch(() => undefined);
  else if (status !== 'connecting' && status !== 'connect') {
    throw new StoreUnavailableError(`Redis route store unavailable: connection is ${status}; check that Redis is running and reachable`);
  }
  let wait = pendingReady.get(client);
  if (!wait) {
    wait = readyOrClosed(client, timeoutMs).finally(() => pendingReady.delete(client));
    pendingReady.set(client, wait);
  }
  await wait;
}

const pendingReady = new WeakMap<RedisClient, Promise<void>>();

function readyOrClosed(client: RedisClient, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (error?: Error): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('close', onClose);
      client.off('end', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onReady = (): void => done();
    const onClose = (): void => done(new StoreUnavailableError('Redis route store unavailable: could not connect; check that Redis is running and reachable'));
    const timer = setTimeout(() => done(new StoreUnavailableError(`Redis route store unavailable: no connection within ${timeoutMs} ms`)), timeoutMs);
    client.on('ready', onReady);
    client.on('close', onClose);
    client.on('end', onClose);
  });
}

/** Redis replies that mean "not serving right now" rather than "your command is wrong". */
const UNAVAILABLE_REPLY = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|BUSY|NOREPLICAS)\b/;

/**
 * Transport failures (closed or refused connection, timeout, retries exhausted) and the
 * not-serving replies above become StoreUnavailableError; any other Redis reply error is a bug
 * (wrong type, script error) and is rethrown unchanged. Messages carry no URL (it may hold a
 * password).
 */
export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  if (!(error instanceof Error)) return error;
  const isReply = error.name === 'ReplyError';
  if (isReply && !UNAVAILABLE_REPLY.test(error.message)) return error;
  return new StoreUnavailableError(`Redis route store unavailable: ${reasonOf(error)}; check that Redis is running and reachable`, { cause: error });
}

function reasonOf(error: Error): string {
  if (error.message === 'Command timed out') return 'Redis did not answer in time';
  if (/enableOfflineQueue|Connection is closed|MaxRetriesPerRequest|max retries per request/i.test(error.message)) return 'the connection to Redis is down';
  return error.message.split('\n')[0] ?? 'unknown error';
}
