// The body berth POSTs for a session event, in the Standard Webhooks shape
// ({ type, timestamp, data }), and the delivery id. Pure. The body is built once, when the event
// is queued, so every retry sends (and signs) the same bytes.

import { randomUUID } from 'node:crypto';
import type { SessionEvent } from '../session-events.js';

export interface WebhookPayload {
  type: SessionEvent['type'];
  /** When the event happened (ISO 8601), not when this attempt was sent. */
  timestamp: string;
  data: {
    tenant: string;
    sessionId: string;
    status: SessionEvent['status'];
    turn: number | null;
    stopReason: string | null;
  };
}

export function buildWebhookPayload(event: SessionEvent): WebhookPayload {
  return {
    type: event.type,
    timestamp: new Date(event.at).toISOString(),
    data: { tenant: event.tenant, sessionId: event.sessionId, status: event.status, turn: event.turn, stopReason: event.stopReason },
  };
}

/** A `webhook-id`: unique per (event, endpoint), the same on every retry of that delivery. */
export function newWebhookId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}
