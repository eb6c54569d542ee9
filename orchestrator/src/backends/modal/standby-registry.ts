// StandbyRegistry: where the Modal backend keeps warm-pool membership. Modal has no server-side
// compare-and-set a claim could use, so the pool lives in berth's gateway store and a claim is one
// atomic popStandby there (atomic across gateway replicas with the Redis store). This is the one
// port: the gateway's store implements it (gateway/src/store/standby-registry.ts re-exports it;
// contract: tests/contracts/store/standby-registry-contract.ts), so the orchestrator does not
// depend on the gateway package. Modal's tags only serve reconciliation
// (sweep); they are never used to decide who owns a standby.

/** One pool member: the Modal sandbox id plus backend data (serialised by the backend). */
export interface StandbyEntry {
  sandboxId: string;
  data: string;
}

export interface StandbyRegistry {
  /** Adds a member (no-op when the id is already there). */
  addStandby(pool: string, standby: StandbyEntry): Promise<void>;
  /** Removes and returns the oldest member, or null when the pool is empty. Atomic: the claim. */
  popStandby(pool: string): Promise<StandbyEntry | null>;
  /** Removes one member by id; false when it was not there (claimed or removed by someone else). */
  removeStandby(pool: string, sandboxId: string): Promise<boolean>;
  listStandbys(pool: string): Promise<StandbyEntry[]>;
}

/** What the Modal backend stores in `data`. The auth token is a secret: the store must be trusted. */
export interface StandbyData {
  url: string;
  authToken: string;
  createdAtMs: number;
  /** When Modal kills the sandbox (createdAtMs + its timeoutMs). */
  expiresAtMs: number;
  /** Spec hash of the definition it was built from (sandbox-params.ts modalSpecHash); '' when unknown. */
  specHash: string;
}

export function encodeStandbyData(data: StandbyData): string {
  return JSON.stringify({ v: 1, ...data });
}

/**
 * The parsed data, or null for an entry written by an incompatible version (it gets recycled).
 * An entry without a spec hash decodes with '' (outdated to every definition: replaced gradually).
 */
export function decodeStandbyData(raw: string): StandbyData | null {
  try {
    const value = JSON.parse(raw) as Partial<StandbyData> & { v?: number };
    if (value.v !== 1 || typeof value.url !== 'string' || typeof value.authToken !== 'string') return null;
    if (typeof value.createdAtMs !== 'number' || typeof value.expiresAtMs !== 'number') return null;
    const specHash = typeof value.specHash === 'string' ? value.specHash : '';
    return { url: value.url, authToken: value.authToken, createdAtMs: value.createdAtMs, expiresAtMs: value.expiresAtMs, specHash };
  } catch {
    return null;
  }
}
