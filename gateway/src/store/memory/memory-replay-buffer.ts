// ReplayBuffer in process memory: per session, the newest frames and an expiry on the store's
// clock, checked lazily on access.

import type { SseFrame } from '@berth/protocol';
import type { ReplayBuffer, ReplayResult } from '../replay-buffer.js';
import type { StoreLimits } from '../store.js';

interface Buffer {
  frames: Array<SseFrame & { id: string }>;
  expiresAt: number;
}

export class MemoryReplayBuffer implements ReplayBuffer {
  private readonly replays = new Map<string, Buffer>();

  constructor(
    private readonly limits: Pick<StoreLimits, 'replayMaxFrames' | 'replayTtlS'>,
    private readonly now: () => number,
  ) {}

  async appendReplay(sessionId: string, frame: SseFrame & { id: string }): Promise<void> {
    let buffer = this.live(sessionId);
    if (!buffer) {
      buffer = { frames: [], expiresAt: 0 };
      this.replays.set(sessionId, buffer);
    }
    buffer.frames.push({ ...frame });
    if (buffer.frames.length > this.limits.replayMaxFrames) buffer.frames.splice(0, buffer.frames.length - this.limits.replayMaxFrames);
    buffer.expiresAt = this.now() + this.limits.replayTtlS * 1000;
  }

  async replaySince(sessionId: string, lastEventId: string): Promise<ReplayResult> {
    const frames = this.live(sessionId)?.frames ?? [];
    const index = frames.findIndex((f) => f.id === lastEventId);
    if (index === -1) return { kind: 'unknown' };
    return { kind: 'frames', frames: frames.slice(index + 1).map((f) => ({ ...f })) };
  }

  async resetReplay(sessionId: string): Promise<void> {
    this.replays.delete(sessionId);
  }

  /** Called by deleteSession (memory-store.ts wires it). */
  forget(sessionId: string): void {
    this.replays.delete(sessionId);
  }

  private live(sessionId: string): Buffer | undefined {
    const buffer = this.replays.get(sessionId);
    if (buffer && buffer.expiresAt <= this.now()) {
      this.replays.delete(sessionId);
      return undefined;
    }
    return buffer;
  }
}
