// Store: berth's shared state as a bundle of narrow ports, one per concern, built once by the
// composition root (stack.ts) with one technology — memory (one process) or redis (every
// multi-replica deployment) — and handed out slice by slice: each consumer takes only the ports
// it uses (`Pick<Store, 'sessions' | 'bindings'>`, or one port). Every port of one bundle shares
// one connection; ping and close belong to the bundle, not to the ports.
// Implementations: memory/memory-store.ts, redis/redis-store.ts. Contracts: tests/contracts/store/.

import type { QuotaCounters } from './quota-counters.js';
import type { SandboxBindings } from './sandbox-bindings.js';
import type { SessionListing } from './session-listing.js';
import type { SessionRecords } from './session-records.js';
import type { StandbyRegistry } from './standby-registry.js';
import type { TranscriptLog } from './transcript-log.js';
import type { UsageLedger } from './usage-ledger.js';

export type StoreTechnology = 'memory' | 'redis';

export interface Store {
  readonly technology: StoreTechnology;
  readonly sessions: SessionRecords;
  readonly listing: SessionListing;
  readonly bindings: SandboxBindings;
  readonly transcripts: TranscriptLog;
  readonly standbys: StandbyRegistry;
  readonly usage: UsageLedger;
  readonly quotas: QuotaCounters;
  /** Throws StoreUnavailableError when the store cannot be reached (feeds /readyz). */
  ping(): Promise<void>;
  /** Closes the connection the ports share (not one the caller passed in). */
  close(): Promise<void>;
}

export interface StoreLimits {
  /**
   * Most bytes of transcript stored per session (entries' JSON, UTF-8). Default 32 MiB: hundreds
   * of long turns with tool output, and every byte of it is handed to a fresh sandbox on resume.
   * Beyond it an append is refused (TranscriptLog `over_limit`), so one session cannot grow the
   * store without bound. Lowering it strands sessions already larger (they take no new entries).
   */
  maxTranscriptBytes: number;
  /**
   * Lifetime of a session record that never got a sandbox, in seconds from its creation. Default
   * 900: far above the longest first claim (the provisioning lock and wait are 120 s), so a record
   * never expires under its own first claim, yet records whose first turn never ran (claim failed,
   * caller gone) do not pile up. Binding a sandbox makes the record permanent; 0 disables expiry.
   */
  unboundTtlS: number;
}

export const DEFAULT_STORE_LIMITS: StoreLimits = {
  maxTranscriptBytes: 32 * 1024 * 1024,
  unboundTtlS: 900,
};

/** Refuses limits no store can honour (a RangeError naming the field). */
export function checkStoreLimits(limits: StoreLimits): void {
  if (!(limits.maxTranscriptBytes >= 1)) throw new RangeError('maxTranscriptBytes must be at least 1');
  if (!(limits.unboundTtlS >= 0)) throw new RangeError('unboundTtlS must be 0 (never) or positive');
}
