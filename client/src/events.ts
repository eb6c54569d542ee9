// The typed events of berth's caller streams (POST /sessions/{id}/messages, GET
// /sessions/{id}/events), written by hand to mirror the gateway's wire shapes (gateway
// sessions/turn-relay.ts, protocol agent-api.ts) without depending on them. Every frame carries
// an `id` `<turn>:<seq>`; a turn opens with `turn` (`<turn>:0`) and ends with exactly one `done`
// or `error`. `transcript` frames never reach callers. Unknown event names are skipped (the
// contract is closed; a newer gateway's additions do not break an older client).

/** One Agent SDK message as JSON (the SDK's `SDKMessage`): `type` is assistant, user, result, system, … */
export interface SdkMessage {
  type: string;
  subtype?: string;
  session_id?: string;
  [field: string]: unknown;
}

/** Why a turn ended: `error:<code>` carries the terminal error's code. */
export type StopReason = 'end_turn' | 'max_turns' | 'interrupted' | 'budget_reached' | `error:${string}` | (string & {});

export interface TurnStartEvent {
  event: 'turn';
  id: string;
  data: { sessionId: string; turn: number };
}

export interface SdkMessageEvent {
  event: 'message';
  id: string;
  data: SdkMessage;
}

/** The turn waits for POST /sessions/{id}/approvals/{requestId} (BerthClient.answerApproval). */
export interface ApprovalRequestEvent {
  event: 'approval_request';
  id: string;
  data: { requestId: string; tool: string; input: Record<string, unknown> };
}

/** `by`: the caller answered, the approval timed out (a deny), or the profile's policy decided. */
export interface ApprovalResolvedEvent {
  event: 'approval_resolved';
  id: string;
  data: { requestId: string; decision: 'allow' | 'deny'; by: 'caller' | 'timeout' | 'policy' };
}

export interface TurnDoneEvent {
  event: 'done';
  id: string;
  data: { sessionId: string; turn: number; stopReason: StopReason };
}

/**
 * The turn failed after its stream started (`stopReason` `error:<code>`), or the stream itself
 * cannot go on: `replay_gap` (the id resumed from is no longer in the session's event log) has
 * no stopReason and says nothing about the turn.
 */
export interface TurnErrorEvent {
  event: 'error';
  id: string;
  data: { message: string; code: string; stopReason?: StopReason };
}

export type BerthEvent = TurnStartEvent | SdkMessageEvent | ApprovalRequestEvent | ApprovalResolvedEvent | TurnDoneEvent | TurnErrorEvent;

export type BerthEventName = BerthEvent['event'];

const KNOWN: ReadonlySet<string> = new Set<BerthEventName>(['turn', 'message', 'approval_request', 'approval_resolved', 'done', 'error']);

export function isKnownEvent(name: string): name is BerthEventName {
  return KNOWN.has(name);
}

/** True for the one event that ends a turn's stream (`done`, or `error`). */
export function isTerminal(event: BerthEvent): event is TurnDoneEvent | TurnErrorEvent {
  return event.event === 'done' || event.event === 'error';
}

/** The final text of a turn: the SDK `result` message's `result`, if the events hold one. */
export function resultOf(events: Iterable<BerthEvent>): string | undefined {
  for (const event of events) {
    if (event.event === 'message' && event.data.type === 'result' && typeof event.data.result === 'string') return event.data.result;
  }
  return undefined;
}
