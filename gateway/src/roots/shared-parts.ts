// The parts both roles stand on: the tenants file (watched), the store with its event log and
// turn ledger, and the session-credential keys. Opened once per process, whatever roles it runs.
// Neighbours: ingress-root.ts and egress-root.ts take what they use; stack.ts composes them.

import type { GatewayConfig } from '../config.js';
import { credentialKeysFromEnv, createSessionCredentials, type CredentialKeys } from '../credentials/index.js';
import type { SessionCredentials } from '../credentials/credentials.js';
import type { Logger } from '../log.js';
import { redisConnectionFromConfig } from '../redis-from-config.js';
import type { RedisConnectionOptions } from '../store/redis/redis-connection.js';
import type { EventLog } from '../store/event-log.js';
import { createMemoryStore } from '../store/memory/memory-store.js';
import { MemoryEventLog } from '../store/memory-event-log.js';
import { MemoryTurnLedger } from '../store/memory-turn-ledger.js';
import { RedisEventLog } from '../store/redis-event-log.js';
import { RedisTurnLedger } from '../store/redis-turn-ledger.js';
import { redisSessionGateFor } from '../store/redis-session-gate.js';
import type { SessionGate } from '../store/session-gate.js';
import { createRedisStore } from '../store/redis/redis-store.js';
import type { Store } from '../store/store.js';
import type { TurnLedger } from '../store/turn-ledger.js';
import { TenantsSource } from '../tenants/tenants-source.js';

export interface SharedParts {
  tenants: TenantsSource;
  /** Undefined: the in-process store (one replica, `berth start`). */
  redis: RedisConnectionOptions | undefined;
  store: Store;
  events: EventLog;
  ledger: TurnLedger;
  /** One Redis script per request on a session; undefined: the gateway composes the ports (in process, Cluster). */
  gate: SessionGate | undefined;
  keys: CredentialKeys;
  credentials: SessionCredentials;
}

/** Opens the shared parts; each one opened pushes its close onto `stops` (closed in reverse). */
export async function openSharedParts(config: Readonly<GatewayConfig>, log: Logger, stops: Array<() => Promise<void>>): Promise<SharedParts> {
  // A JWT deployment needs no tenants file: without one, tenants come from verified claims.
  const tenants = await TenantsSource.open(config.tenantsFile, log, { claimsWhenAbsent: config.jwt !== undefined });
  tenants.watch();
  stops.push(async () => tenants.close());
  const redis = redisConnectionFromConfig(config);
  // Built once, with one technology; each consumer takes only the ports it uses.
  const limits = { maxTranscriptBytes: config.maxTranscriptBytes, unboundTtlS: config.unboundSessionTtlS };
  const redisStore = redis ? createRedisStore({ ...redis, keyPrefix: config.redisPrefix, limits }) : undefined;
  const store: Store = redisStore ?? createMemoryStore({ limits });
  stops.push(() => store.close());
  // One script per authenticated request on a session (single Redis or Sentinel), on the store's
  // connection; on Cluster and in process the gateway composes the same steps from the ports.
  const gate = redisStore ? redisSessionGateFor(redisStore.client, config.redisPrefix) : undefined;
  // The event log and turn ledger share the route store's Redis (their own connections: the
  // event log's subscriber blocks on notifications).
  const events: EventLog = redis ? new RedisEventLog({ ...redis, keyPrefix: config.redisPrefix }) : new MemoryEventLog();
  const ledger: TurnLedger = redis ? new RedisTurnLedger({ ...redis, keyPrefix: config.redisPrefix }) : new MemoryTurnLedger();
  stops.push(() => events.close(), () => ledger.close());
  const keys = credentialKeysFromEnv(config.credentialKeys);
  const credentials = createSessionCredentials({ keys, ttlS: config.credentialTtlS });
  return { tenants, redis, store, events, ledger, gate, keys, credentials };
}
