// What the turn runner tells the rest of berth about a session's life: a status change or the end
// of a turn. The runner publishes after the store recorded the change; a sink (webhooks, metrics)
// queues the event and never blocks or fails the turn.

export type SessionStatus = 'idle' | 'running' | 'awaiting_approval' | 'rescheduling' | 'terminated';

export interface SessionEvent {
  type: 'session.status_changed' | 'session.turn_ended';
  tenant: string;
  sessionId: string;
  status: SessionStatus;
  turn: number | null;
  /** Set on turn_ended: end_turn | max_turns | interrupted | budget_reached | error:<code>. */
  stopReason: string | null;
  /** Epoch ms. */
  at: number;
}

/** Called after the store recorded the change; must not throw; must not block the turn (queue it). */
export interface SessionEventSink {
  publish(event: SessionEvent): void;
}

export const noSessionEvents: SessionEventSink = { publish() {} };
