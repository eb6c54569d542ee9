// The SandboxBackend port: one sandbox per session, drawn from a warm pool per profile.
// Implementations: LocalProcessBackend (backends/local), KubernetesBackend (backends/kubernetes),
// ModalBackend (backends/modal). All pass tests/contracts/sandbox-backend-contract.ts.
//
// Concurrency contract, for every implementation:
// - claim() is atomic across gateway replicas: a standby is handed to at most one session.
// - Concurrent claim() calls for the same session in one process share one sandbox. Across
//   replicas the gateway's provisioning lock (store SandboxBindings) serialises claims of one session.
// - A claimed sandbox is returned only once its agent server answers /health.
// - release() is idempotent; release of an unknown session is a no-op.
// - sweep() may run on every replica at once.

import type { SandboxProfile } from './profile.js';

export type BackendKind = 'local' | 'kubernetes' | 'modal';

/** How the gateway reaches one sandbox's agent server. */
export interface SandboxEndpoint {
  /** Backend-unique id (process id tag, pod name, Modal sandbox id). */
  sandboxId: string;
  /** Base URL of the agent server, e.g. http://127.0.0.5:8000. */
  url: string;
  /** The per-sandbox AGENT_AUTH_TOKEN; a secret, never logged. */
  authToken: string;
}

export type ClaimOutcome = 'warm' | 'cold';

/**
 * A sandbox bound to a session: the one sandbox type from claim to the gateway's session record
 * (the store keeps exactly this as the session's binding).
 */
export interface SandboxBinding extends SandboxEndpoint {
  profile: string;
  /** When the claim completed (ms epoch): the session's idle clock starts here, not at boot. */
  claimedAt: number;
}

/** What claim() returns: the binding plus how the claim was served (metrics and logs only). */
export interface ClaimedSandbox extends SandboxBinding {
  outcome: ClaimOutcome;
}

export interface PoolStatus {
  profile: string;
  /** Ids of the ready standbys, where the backend tracks them itself (local); absent elsewhere. */
  standbyIds?: string[];
  /** Standbys the pool aims to keep. */
  target: number;
  /** Standbys healthy and unclaimed. */
  ready: number;
  /** Standbys being created or not yet healthy. */
  starting: number;
  /** Sandboxes bound to sessions (this replica's view for local; cluster-wide elsewhere). */
  claimed: number;
  /** Claims served by a cold start since the backend started (on this replica). */
  coldStarts: number;
  /** Claims served from the pool since the backend started (on this replica). */
  warmClaims: number;
}

export interface SweepReport {
  /** Sandbox ids removed because no session owns them, or they failed. */
  removed: string[];
}

export interface SandboxBackend {
  readonly kind: BackendKind;
  /** Starts pool maintenance (filling every profile's pool). Resolves once maintenance runs, not once pools are full. */
  start(): Promise<void>;
  /** Stops maintenance and removes every sandbox this instance owns on platforms where it owns processes. */
  stop(): Promise<void>;
  /** Binds a healthy sandbox of `profile` to `sessionId`: a standby if one is ready, else a cold start. */
  claim(sessionId: string, profile: string): Promise<ClaimedSandbox>;
  /** Removes the session's sandbox. Idempotent. */
  release(sessionId: string): Promise<void>;
  /** Pool status per profile. */
  pool(): Promise<PoolStatus[]>;
  /** Removes sandboxes bound to sessions `isOwned` denies, and failed ones. Safe on every replica at once. */
  sweep(isOwned: (sessionId: string) => Promise<boolean>): Promise<SweepReport>;
  /** The profiles this backend keeps pools for. */
  profiles(): readonly SandboxProfile[];
  /**
   * Whether the platform's API answered on its last attempt (readiness, not liveness). Optional:
   * a backend without a remote API (local) is always ready. Cheap: called on every /readyz.
   */
  healthy?(): boolean;
}
