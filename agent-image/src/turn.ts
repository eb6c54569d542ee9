// Runs one SDK turn and turns it into frames: every SDK message becomes an `event: message`
// frame as it arrives, then one terminal `done` (the iterator ended) or `error` (it threw, or
// the turn was aborted). Transcript frames are written by the session store's sink, which the
// caller attaches for the turn's lifetime. Neighbours: session.ts (chooses warm or cold start),
// frames.ts (encoding). It does not retry: the CLI retries model calls itself.

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

export async function runTurn(q: Query, frames: FrameWriter, signal: AbortSignal, knownSessionId: string | null): Promise<TurnResult> {
  const startedAt = performance.now();
  let sdkSessionId = knownSessionId;
  let firstAssistantMs: number | null = null;
  try {
    for await (const message of q as AsyncIterable<SDKMessage>) {
      const id = (message as { session_id?: unknown }).session_id;
      if (typeof id === 'string' && id.length > 0) sdkSessionId = id;
      if (message.type === 'assistant' && firstAssistantMs === null) firstAssistantMs = performance.now() - startedAt;
      frames.message(message);
    }
    if (signal.aborted) {
      frames.error({ message: 'turn aborted', code: 'turn_aborted' satisfies TurnErrorCode, sdkSessionId });
      return { sdkSessionId, outcome: 'aborted', firstAssistantMs };
    }
    frames.done({ sdkSessionId });
    return { sdkSessionId, outcome: 'done', firstAssistantMs };
  } catch (error) {
    const aborted = signal.aborted;
    // The SDK's error text names the CLI's failure ("Claude Code returned an error result: …");
    // it carries no credential (the key lives only in the CLI's environment).
    const message = aborted ? 'turn aborted' : error instanceof Error ? error.message : String(error);
    frames.error({ message, code: (aborted ? 'turn_aborted' : 'turn_failed') satisfies TurnErrorCode, sdkSessionId });
    return { sdkSessionId, outcome: aborted ? 'aborted' : 'error', firstAssistantMs };
  }
}
