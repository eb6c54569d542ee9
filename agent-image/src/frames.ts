// Writes one turn's SSE stream: `id:` on every frame (a per-turn counter from 1), each frame
// flushed as written, and exactly one terminal frame. Neighbours: turn.ts decides what to send,
// server.ts opens the response. Writes after the caller left are dropped, never thrown.

import type { ServerResponse } from 'node:http';
import { encodeComment, encodeFrame, type AgentEvent, type DoneData, type ErrorData, type TranscriptBatch } from '@berth/protocol';

/**
 * Comment line every 15 s while a turn is quiet (a long tool run, a slow model): idle-timeout
 * proxies and load balancers (often 60 s) see traffic; clients and the gateway ignore comments.
 */
const HEARTBEAT_MS = 15_000;

export class FrameWriter {
  private nextId = 1;
  private ended = false;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly res: ServerResponse) {
    res.on('close', () => clearInterval(this.heartbeat));
  }

  /** Sends the status line and headers now, so the caller sees the stream open before the CLI answers. */
  open(): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Reverse proxies (nginx and friends) must not buffer a turn.
      'x-accel-buffering': 'no',
    });
    this.res.flushHeaders();
    // Small frames must not wait for Nagle's algorithm.
    this.res.socket?.setNoDelay(true);
    this.heartbeat = setInterval(() => {
      if (this.isOpen) this.res.write(encodeComment('keep-alive'));
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get isOpen(): boolean {
    return !this.ended && !this.res.destroyed && !this.res.writableEnded;
  }

  message(sdkMessage: unknown): void {
    this.send('message', sdkMessage);
  }

  transcript(batch: TranscriptBatch): void {
    this.send('transcript', batch);
  }

  done(data: DoneData): void {
    this.terminal('done', data);
  }

  error(data: ErrorData): void {
    this.terminal('error', data);
  }

  private terminal(event: 'done' | 'error', data: unknown): void {
    if (this.ended) return;
    this.send(event, data);
    this.ended = true;
    clearInterval(this.heartbeat);
    if (!this.res.destroyed) this.res.end();
  }

  private send(event: AgentEvent, data: unknown): void {
    if (!this.isOpen) return;
    this.res.write(encodeFrame({ id: String(this.nextId++), event, data: JSON.stringify(data) }));
  }
}
