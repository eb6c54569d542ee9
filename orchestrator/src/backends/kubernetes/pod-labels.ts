// The labels and annotations that carry berth's pool state on each sandbox pod. The pod object
// itself is the only shared state between gateway replicas: the state label is what the atomic
// claim tests and flips, the slot label is what keeps replicas from over-filling a pool. This
// module only names and encodes; pod-manifest.ts builds pods, pod-claim.ts flips state.

import { createHash } from 'node:crypto';

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'berth';
/** Which berth installation owns the pod, so two installs can share a namespace. */
export const LABEL_POOL = 'berth.dev/pool';
export const LABEL_PROFILE = 'berth.dev/profile';
/** 'standby' | 'claimed'. The claim's JSON Patch `test`s this value. */
export const LABEL_STATE = 'berth.dev/state';
/** Pool slot a standby was created for (see standby-pool.ts). Absent on cold-started pods. */
export const LABEL_SLOT = 'berth.dev/slot';
/**
 * Hash of what a standby was built from (image, profile, agent environment): after an upgrade,
 * standbys whose hash differs from the current one are replaced gradually (standby-pool.ts).
 */
export const LABEL_SPEC_HASH = 'berth.dev/spec-hash';
/** Hash of the session id (label values cannot hold every valid session id). */
export const LABEL_SESSION = 'berth.dev/session';

/** The exact session id; the label is an index, this annotation is the truth. */
export const ANNOTATION_SESSION_ID = 'berth.dev/session-id';
export const ANNOTATION_CLAIMED_AT = 'berth.dev/claimed-at';
/** Key id of the gateway key the agent token is derived from (rotation). Public. */
export const ANNOTATION_TOKEN_KID = 'berth.dev/token-kid';
/** Random per-pod nonce mixed into the token derivation. Public. */
export const ANNOTATION_TOKEN_NONCE = 'berth.dev/token-nonce';

export type PodState = 'standby' | 'claimed';

/**
 * Label value for a session: a SHA-256 prefix, because session ids may be 64 characters or end
 * in '_' / '-', neither of which a label value allows. 40 hex chars keep collisions out of
 * reach; callers still check ANNOTATION_SESSION_ID before trusting a match.
 */
export function sessionLabelValue(sessionId: string): string {
  return 's' + createHash('sha256').update(sessionId, 'utf8').digest('hex').slice(0, 40);
}

/** JSON Pointer (RFC 6901) of a label or annotation key, for JSON Patch ops. */
export function metadataPointer(map: 'labels' | 'annotations', key: string): string {
  return `/metadata/${map}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

/** The label selector of every pod this installation manages. */
export function poolSelector(pool: string): string {
  return `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE},${LABEL_POOL}=${pool}`;
}

/**
 * LABEL_SPEC_HASH value: the shared spec hash (pool/spec-hash.ts) over the profile (pool size
 * excluded), the image the pod runs and the agent's environment. Per-pod fields (name, slot,
 * token) are not part of it.
 */
export { specHash } from '../../pool/spec-hash.js';
