// Serves one reader of a turn as SSE: the kept frames after `after`, then the live tail, ending
// after the terminal frame. Used by POST …/messages (after = 0) and GET …/turns/{n}/stream
// (after = Last-Event-ID). A reader only observes: closing it never touches the turn.
// Neighbours: turn-log.ts (the frames), server.ts (routes).

import type { ServerResponse } from 'node:http';
import { encodeComment, encodeFrame } from '@berth/protocol';
import type { LoggedFrame, TurnLog } from './turn-log.js';

/**
 * Comment line every 15 s while a turn is quiet (a long tool run, a slow model, an approval
 * awaiting its answer): idle-timeout proxies and load balancers (often 60 s) see traffic;
 * clients and the gateway ignore comments.
 */
const HEARTBEAT_MS = 15_000;

/**
 * Bytes a reader may leave unsent in its socket buffer. A reader this far behind (a stalled
 * peer) is cut rather than buffered without bound; it re-attaches with Last-Event-ID.
 */
const MAX_READER_BACKLOG_BYTES = 16 * 1024 * 1024;

export function streamTurn(res: ServerResponse, log: TurnLog, after: number): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Reverse proxies (nginx and friends) must not buffer a turn.
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  // Small frames must not wait for Nagle's algorithm.
  res.socket?.setNoDelay(true);

  const open = (): boolean => !res.destroyed && !res.writableEnded;
  const kept = log.read(after);
  if (kept.kind === 'gap') {
    const message = `frames after ${after} of turn ${log.turn} are no longer kept (the first kept is ${kept.firstKept})`;
    res.end(encodeFrame({ event: 'error', data: JSON.stringify({ message, code: 'replay_gap' }) }));
    return;
  }
  let unsubscribe = (): void => undefined;
  const heartbeat = setInterval(() => {
    if (open()) res.write(encodeComment('keep-alive'));
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const stop = (): void => {
    clearInterval(heartbeat);
    unsubscribe();
  };
  res.on('close', stop);

  let lastSent = after;
  const write = (frame: LoggedFrame): void => {
    if (!open() || frame.seq <= lastSent) return;
    lastSent = frame.seq;
    res.write(encodeFrame({ id: String(frame.seq), event: frame.event, data: frame.data }));
    if (frame.event === 'done' || frame.event === 'error') {
      stop();
      res.end();
    } else if (res.writableLength > MAX_READER_BACKLOG_BYTES) {
      stop();
      res.destroy();
    }
  };
  // read() and subscribe() run in the same tick, so no frame falls between them.
  for (const frame of kept.frames) write(frame);
  if (log.finished) {
    // A reader past the terminal frame (or of a finished turn) gets what is left and the end.
    stop();
    if (open()) res.end();
    return;
  }
  unsubscribe = log.subscribe(write);
}
