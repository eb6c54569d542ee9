// Reading berth's facts off a pod object (from a list, a watch event or a patch response).
// Pure. Timestamps are only tested for presence: list results carry Dates, watch events strings.

import type { V1Pod } from '@kubernetes/client-node';
import { ANNOTATION_CLAIMED_AT, ANNOTATION_SESSION_ID, LABEL_PROFILE, LABEL_SLOT, LABEL_STATE } from './pod-labels.js';

export function podName(pod: V1Pod): string {
  return pod.metadata?.name ?? '';
}

export function stateOf(pod: V1Pod): string | undefined {
  return pod.metadata?.labels?.[LABEL_STATE];
}

export function profileOf(pod: V1Pod): string | undefined {
  return pod.metadata?.labels?.[LABEL_PROFILE];
}

export function sessionOf(pod: V1Pod): string | undefined {
  return pod.metadata?.annotations?.[ANNOTATION_SESSION_ID];
}

export function claimedAtMs(pod: V1Pod): number | undefined {
  const raw = pod.metadata?.annotations?.[ANNOTATION_CLAIMED_AT];
  const ms = raw ? Date.parse(raw) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** Slot number of a standby, or undefined when absent or malformed. */
export function slotOf(pod: V1Pod): number | undefined {
  const raw = pod.metadata?.labels?.[LABEL_SLOT];
  return raw !== undefined && /^\d{1,4}$/.test(raw) ? Number(raw) : undefined;
}

export function isTerminating(pod: V1Pod): boolean {
  return Boolean(pod.metadata?.deletionTimestamp);
}

/** Finished pods never come back (restartPolicy Never): Failed, or Succeeded after an exit 0. */
export function isFailed(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Failed' || phase === 'Succeeded';
}

/** Running, Ready condition true, and an IP to dial. */
export function isReady(pod: V1Pod): boolean {
  if (pod.status?.phase !== 'Running' || !pod.status.podIP) return false;
  return (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Neither finished nor being deleted: a pod that can still serve or become ready. */
export function isLive(pod: V1Pod): boolean {
  return !isTerminating(pod) && !isFailed(pod);
}
