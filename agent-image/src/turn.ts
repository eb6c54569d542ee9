// Runs one SDK turn and turns it into frames: every SDK message becomes an `event: message`
// frame as it arrives, then one terminal `done` (the iterator ended) or `error` (it threw, or
// the turn was aborted). Transcript frames are written by the session store's sink, which the
// caller attaches for the turn's lifetime. Neighbours: session.ts (chooses warm or cold start),
// frames.ts (encoding). It does not retry model calls (the CLI does); it retries the start once,
// cold, when a pre-started CLI fails before its first message (it may have died while parked).

import type { Query, SDKMessage } from '@anthropic-ai/claude-agent-sdk';
import type { FrameWriter } from './frames.js';

export interface TurnResult {
  /** The SDK session the turn ran in (from any message), or null if none arrived. */
  sdkSessionId: string | null;
  outcome: 'done' | 'error' | 'aborted';
  /** Milliseconds from the turn's start to its first assistant message (diagnostics). */
  firstAssistantMs: number | null;
}

/** Stable `code`s of the terminal error frame. */
export type TurnErrorCode = 'turn_failed' | 'turn_aborted';

export interface TurnRun {
  query: Query;
  /** A cold start to use if `query` fails before yielding anything; absent for a cold query. */
  fallback?: (() => Query) | undefined;
  frames: FrameWriter;
  aborted: () => boolean;
  knownSessionId: string | null;
  log: (message: string) => void;
}

export async function runTurn(run: TurnRun): Promise<TurnResult> {
  const startedAt = performance.now();
  const { frames } = run;
  let sdkSessionId = run.knownSessionId;
  let firstAssistantMs: number | null = null;
  let q = run.query;
  let fallback = run.fallback;
  let yielded = false;
  for (;;) {
    try {
      for await (const message of q as AsyncIterable<SDKMessage>) {
        yielded = true;
        const id = (message as { session_id?: unknown }).session_id;
        if (typeof id === 'string' && id.length > 0) sdkSessionId = id;
        if (message.type === 'assistant' && firstAssistantMs === null) firstAssistantMs = performance.now() - startedAt;
        frames.message(message);
      }
      break;
    } catch (error) {
      if (!yielded && fallback && !run.aborted()) {
        run.log(`pre-started CLI failed before its first message, starting cold: ${describe(error)}`);
        q.close();
        q = fallback();
        fallback = undefined;
        continue;
      }
      const aborted = run.aborted();
      // The SDK's error text names the CLI's failure ("Claude Code returned an error result: …");
      // it carries no credential (the key lives only in the CLI's environment).
      frames.error({ message: aborted ? 'turn aborted' : describe(error), code: (aborted ? 'turn_aborted' : 'turn_failed') satisfies TurnErrorCode, stopReason: aborted ? 'error:turn_aborted' : 'error:turn_failed', sdkSessionId });
      q.close();
      return { sdkSessionId, outcome: aborted ? 'aborted' : 'error', firstAssistantMs };
    }
  }
  q.close();
  if (run.aborted()) {
    frames.error({ message: 'turn aborted', code: 'turn_aborted' satisfies TurnErrorCode, stopReason: 'error:turn_aborted', sdkSessionId });
    return { sdkSessionId, outcome: 'aborted', firstAssistantMs };
  }
  frames.done({ sdkSessionId, stopReason: 'end_turn' });
  return { sdkSessionId, outcome: 'done', firstAssistantMs };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
