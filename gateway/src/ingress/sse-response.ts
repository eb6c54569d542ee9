// The caller's side of one SSE stream: headers, immediate flushing, heartbeats, and the rule
// that every accepted stream ends with exactly one terminal frame (`done` or `error`), however
// it ends. Frame ids are assigned by the caller of send(); this class only writes.

import type { Response } from 'express';
import { encodeComment, encodeFrame, type SseFrame } from '@berth/protocol';
import type { FrameSink } from '../sessions/turn-relay.js';

/**
 * Heartbeat comment interval in ms. Default 15 000: under the 30–60 s idle timeouts of common
 * load balancers and proxies, so a quiet turn (a long tool call) is not cut by them.
 */
export const HEARTBEAT_MS = 15_000;

export class SseResponse implements FrameSink {
  private heartbeat: NodeJS.Timeout | undefined;
  private terminal = false;

  constructor(private readonly res: Response, heartbeatMs = HEARTBEAT_MS) {
    res.status(200);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('x-accel-buffering', 'no');
    res.setHeader('connection', 'keep-alive');
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    this.heartbeat = setInterval(() => this.write(encodeComment('heartbeat')), heartbeatMs);
    this.heartbeat.unref();
    res.on('close', () => this.stopHeartbeat());
  }

  get ended(): boolean {
    return this.terminal || this.res.writableEnded || this.res.destroyed;
  }

  /** Writes a non-terminal frame. */
  send(frame: SseFrame): void {
    if (!this.ended) this.write(encodeFrame(frame));
  }

  /** Writes the one terminal frame and ends the response; later calls are no-ops. */
  finish(frame: SseFrame & { event: 'done' | 'error' }): boolean {
    if (this.ended) return false;
    this.terminal = true;
    this.write(encodeFrame(frame));
    this.stopHeartbeat();
    this.res.end();
    return true;
  }

  private write(text: string): void {
    if (!this.res.writableEnded && !this.res.destroyed) this.res.write(text);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
