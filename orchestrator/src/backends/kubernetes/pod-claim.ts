// The atomic claim, as data. A claim is one JSON Patch whose `test` ops make the API server
// apply it only if the pod is still a standby AND still at the resourceVersion this replica
// read; the same request flips the state label and binds the session. Two gateway replicas
// patching one standby therefore get one 200 and one 422 (test failed) or 409 (version moved);
// the loser moves on to the next standby. The claim also drops the slot label, which frees the
// slot so the pool loop refills it (standby-pool.ts).

import type { V1Pod } from '@kubernetes/client-node';
import type { JsonPatchOp } from './kube-api.js';
import {
  ANNOTATION_CLAIMED_AT, ANNOTATION_SESSION_ID, LABEL_SESSION, LABEL_SLOT, LABEL_STATE,
  metadataPointer, sessionLabelValue,
} from './pod-labels.js';

export function buildClaimPatch(pod: V1Pod, sessionId: string, claimedAtIso: string): JsonPatchOp[] {
  const resourceVersion = pod.metadata?.resourceVersion;
  if (!resourceVersion) throw new Error('cannot claim a pod without metadata.resourceVersion');
  const ops: JsonPatchOp[] = [
    { op: 'test', path: metadataPointer('labels', LABEL_STATE), value: 'standby' },
    { op: 'test', path: '/metadata/resourceVersion', value: resourceVersion },
    { op: 'replace', path: metadataPointer('labels', LABEL_STATE), value: 'claimed' },
    { op: 'add', path: metadataPointer('labels', LABEL_SESSION), value: sessionLabelValue(sessionId) },
  ];
  if (pod.metadata?.labels?.[LABEL_SLOT] !== undefined) ops.push({ op: 'remove', path: metadataPointer('labels', LABEL_SLOT) });
  // buildPodManifest always writes annotations, so `add` of a key (not of the map) is valid.
  if (!pod.metadata?.annotations) ops.push({ op: 'add', path: '/metadata/annotations', value: {} });
  ops.push(
    { op: 'add', path: metadataPointer('annotations', ANNOTATION_SESSION_ID), value: sessionId },
    { op: 'add', path: metadataPointer('annotations', ANNOTATION_CLAIMED_AT), value: claimedAtIso },
  );
  return ops;
}

/** True when the API server refused the claim because another replica got there first. */
export function isLostRace(status: number | undefined): boolean {
  // 422: a `test` op failed (the state label moved); 409: resourceVersion precondition; 404: deleted.
  return status === 422 || status === 409 || status === 404;
}
