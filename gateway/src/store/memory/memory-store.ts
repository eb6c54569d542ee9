// The in-process Store: the embedded default for one gateway process. Everything lives in Maps;
// every method completes synchronously inside its promise, so each is atomic with respect to the
// others. Several replicas need the Redis store (redis/redis-store.ts).

import { DEFAULT_STORE_LIMITS, checkStoreLimits, type Store, type StoreLimits } from '../store.js';
import { MemoryQuotaCounters } from './memory-quota-counters.js';
import { MemorySandboxBindings } from './memory-sandbox-bindings.js';
import { MemorySessionListing } from './memory-session-listing.js';
import { MemorySessionRecords } from './memory-session-records.js';
import { newSessionTable } from './memory-session-table.js';
import { MemoryStandbyRegistry } from './memory-standby-registry.js';
import { MemoryTranscriptLog } from './memory-transcript-log.js';
import { MemoryUsageLedger } from './memory-usage-ledger.js';

export { MemoryStandbyRegistry } from './memory-standby-registry.js';

export interface MemoryStoreOptions {
  limits?: Partial<StoreLimits>;
  /** The store's clock (lock, lease, unbound-record and usage-ledger expiry). Default Date.now. */
  now?: () => number;
}

export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const limits = { ...DEFAULT_STORE_LIMITS, ...options.limits };
  checkStoreLimits(limits);
  const now = options.now ?? Date.now;
  const table = newSessionTable(now, Math.ceil(limits.unboundTtlS * 1000));
  const transcripts = new MemoryTranscriptLog(limits.maxTranscriptBytes);
  table.forget.push((id) => transcripts.forget(id));
  return {
    technology: 'memory',
    sessions: new MemorySessionRecords(table),
    listing: new MemorySessionListing(table),
    bindings: new MemorySandboxBindings(table),
    transcripts,
    standbys: new MemoryStandbyRegistry(),
    usage: new MemoryUsageLedger(now),
    quotas: new MemoryQuotaCounters(now),
    ping: async () => undefined,
    close: async () => undefined,
  };
}
