// Resuming a stream with Last-Event-ID: what the caller missed of the running or last turn,
// then the live tail until the turn's terminal frame. The live tail reads the same replay buffer
// the relay writes, so it works from any replica (the relay may run on another one). An id the
// buffer does not hold (unknown, expired, evicted) gets one explicit `event: error`, never a
// silent gap.

import type { Response } from 'express';
import type { SseFrame } from '@berth/protocol';
import type { ReplayBuffer } from '../store/replay-buffer.js';
import { SseResponse } from './sse-response.js';

export interface ResumeOptions {
  /** Poll interval of the live tail, in ms. Default 200: resumed streams trade a little latency for replica independence. */
  pollMs?: number;
  /** Longest live tail, in ms. Default 1 h, the replay buffer's default lifetime. */
  maxTailMs?: number;
}

export async function resumeStream(store: ReplayBuffer, sessionId: string, lastEventId: string, res: Response, options: ResumeOptions = {}): Promise<void> {
  const pollMs = options.pollMs ?? 200;
  const deadline = Date.now() + (options.maxTailMs ?? 3_600_000);
  let closed = false;
  res.on('close', () => (closed = true));
  const caller = new SseResponse(res);
  let cursor = lastEventId;
  while (!closed) {
    const result = await store.replaySince(sessionId, cursor);
    if (result.kind === 'unknown') {
      caller.finish({
        id: cursor,
        event: 'error',
        data: JSON.stringify({ message: `Last-Event-ID ${JSON.stringify(cursor.slice(0, 64))} is not in the replay buffer (unknown or expired); fetch the session and start a new turn`, code: 'replay_gap' }),
      });
      return;
    }
    for (const frame of result.frames as Array<SseFrame & { id: string }>) {
      cursor = frame.id;
      if (frame.event === 'done' || frame.event === 'error') {
        caller.finish(frame as SseFrame & { event: 'done' | 'error' });
        return;
      }
      caller.send(frame);
    }
    if (Date.now() > deadline) {
      caller.finish({ id: cursor, event: 'error', data: JSON.stringify({ message: 'the turn did not finish while this stream was open', code: 'tail_timeout' }) });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
