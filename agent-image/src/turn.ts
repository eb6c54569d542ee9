// Runs one SDK turn into its TurnLog: every SDK message becomes a `message` frame as it arrives;
// then it decides the turn's one terminal frame (`done` or `error`, with the stopReason) and
// returns it for the session to write, so the session can mark itself idle in the same tick.
// Neighbours: session.ts (chooses warm or cold start, owns interrupt, timeouts and approvals),
// turn-log.ts (frames). It does not retry model calls (the CLI does); it retries the start once,
// cold, when a pre-started CLI fails before its first message (it may have died while parked).

import type { Query, SDKMessage } from '@anthropic-ai/claude-agent-sdk';
import type { AgentTurnErrorCode, DoneData, ErrorData, StopReason } from '@berth/protocol';
import { BUDGET_REFUSAL_TAG } from '@berth/protocol';
import type { TurnLog } from './turn-log.js';

/** Why the session stopped a turn itself; null while nobody did. The first reason wins. */
export type StopRequest = 'interrupted' | 'error:turn_timeout' | 'error:frame_limit' | 'error:turn_aborted';

export type Terminal = { event: 'done'; data: DoneData } | { event: 'error'; data: ErrorData };

export interface TurnResult {
  /** The SDK session the turn ran in (from any message), or null if none arrived. */
  sdkSessionId: string | null;
  stopReason: StopReason;
  /** The terminal frame to write; runTurn leaves the writing to its caller. */
  terminal: Terminal;
  /** Milliseconds from the turn's start to its first assistant message (diagnostics). */
  firstAssistantMs: number | null;
}

export interface TurnRun {
  query: Query;
  /** A cold start to use if `query` fails before yielding anything; absent for a cold query. */
  fallback?: (() => Query) | undefined;
  frames: TurnLog;
  /** Told which Query runs the turn now (the first, then the fallback), so interrupt reaches it. */
  onQuery?: (query: Query) => void;
  /** Called when a frame was refused for a per-turn bound; the session stops the turn. */
  onFrameLimit?: () => void;
  stopRequested: () => StopRequest | null;
  knownSessionId: string | null;
  log: (message: string) => void;
}

const STOP_MESSAGES: Record<Exclude<StopRequest, 'interrupted'>, string> = {
  'error:turn_timeout': "the turn ran past the profile's turnTimeoutS and was interrupted",
  'error:frame_limit': "the turn emitted more than the profile's maxFramesPerTurn frames, or one larger than maxFrameBytes, and was stopped",
  'error:turn_aborted': 'the turn was aborted because the sandbox is shutting down',
};

export async function runTurn(run: TurnRun): Promise<TurnResult> {
  const startedAt = performance.now();
  const { frames } = run;
  let sdkSessionId = run.knownSessionId;
  let firstAssistantMs: number | null = null;
  let resultSubtype: string | null = null;
  let q = run.query;
  let fallback = run.fallback;
  let yielded = false;
  let failure: unknown = null;
  let budgetRefused = false;
  run.onQuery?.(q);
  for (;;) {
    try {
      for await (const message of q as AsyncIterable<SDKMessage>) {
        yielded = true;
        const id = (message as { session_id?: unknown }).session_id;
        if (typeof id === 'string' && id.length > 0) sdkSessionId = id;
        if (message.type === 'assistant' && firstAssistantMs === null) firstAssistantMs = performance.now() - startedAt;
        if (message.type === 'result') {
          resultSubtype = message.subtype;
          if (message.is_error && JSON.stringify(message).includes(BUDGET_REFUSAL_TAG)) budgetRefused = true;
        }
        if (frames.append('message', message) === 'frame_limit') run.onFrameLimit?.();
      }
      break;
    } catch (error) {
      if (!yielded && fallback && run.stopRequested() === null) {
        run.log(`pre-started CLI failed before its first message, starting cold: ${describe(error)}`);
        q.close();
        q = fallback();
        fallback = undefined;
        run.onQuery?.(q);
        continue;
      }
      failure = error;
      break;
    }
  }
  q.close();
  if (failure !== null && describe(failure).includes(BUDGET_REFUSAL_TAG)) budgetRefused = true;
  const terminal = decide(run.stopRequested(), budgetRefused ? 'budget_refused' : resultSubtype, failure, sdkSessionId);
  return { sdkSessionId, stopReason: terminal.data.stopReason, terminal, firstAssistantMs };
}

/**
 * The terminal frame. A stop the session asked for wins over what the SDK reported (an
 * interrupt surfaces as a `success` or an `error_during_execution` result, or as a throw).
 * maxTurns ends with the SDK's `error_max_turns` result and then a throw: that is the profile's
 * limit working, so it is a `done`; so is a budget refusal (`resultSubtype` 'budget_refused', which
 * runTurn passes when the SDK's result or failure carries BUDGET_REFUSAL_TAG).
 */
export function decide(stop: StopRequest | null, resultSubtype: string | null, failure: unknown, sdkSessionId: string | null): Terminal {
  if (stop === 'interrupted') return { event: 'done', data: { sdkSessionId, stopReason: 'interrupted' } };
  if (stop !== null) return errorTerminal(stop.slice('error:'.length) as AgentTurnErrorCode, STOP_MESSAGES[stop], sdkSessionId);
  if (resultSubtype === 'error_max_turns') return { event: 'done', data: { sdkSessionId, stopReason: 'max_turns' } };
  // The egress gateway refused the tenant's spent token budget (BUDGET_REFUSAL_TAG): policy, not a
  // failure; the result frame before this one carries the gateway's readable message.
  if (resultSubtype === 'budget_refused') return { event: 'done', data: { sdkSessionId, stopReason: 'budget_reached' } };
  // The SDK's error text names the CLI's failure ("Claude Code returned an error result: …");
  // it carries no credential (the key lives only in the CLI's environment).
  if (failure !== null) return errorTerminal('turn_failed', describe(failure), sdkSessionId);
  return { event: 'done', data: { sdkSessionId, stopReason: 'end_turn' } };
}

function errorTerminal(code: AgentTurnErrorCode, message: string, sdkSessionId: string | null): Terminal {
  return { event: 'error', data: { message, code, stopReason: `error:${code}`, sdkSessionId } };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
