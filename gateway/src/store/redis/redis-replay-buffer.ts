// ReplayBuffer on Redis: a capped list with a TTL per session; the scan for Last-Event-ID runs
// in Redis, so a reconnect transfers only what the caller missed.

import type { SseFrame } from '@berth/protocol';
import type { ReplayBuffer, ReplayResult } from '../replay-buffer.js';
import type { StoreLimits } from '../store.js';
import { decodeReplayFrame, encodeReplayFrame, replayIdPrefix } from './redis-codec.js';
import type { RedisCommands } from './redis-commands.js';

export class RedisReplayBuffer implements ReplayBuffer {
  constructor(
    private readonly redis: RedisCommands,
    private readonly limits: Pick<StoreLimits, 'replayMaxFrames' | 'replayTtlS'>,
  ) {}

  async appendReplay(sessionId: string, frame: SseFrame & { id: string }): Promise<void> {
    const ttlMs = Math.max(1, Math.ceil(this.limits.replayTtlS * 1000));
    await this.redis.script('berthAppendReplay', this.redis.keys.session(sessionId).replay, encodeReplayFrame(frame), this.limits.replayMaxFrames, ttlMs);
  }

  async replaySince(sessionId: string, lastEventId: string): Promise<ReplayResult> {
    const reply = (await this.redis.script('berthReplaySince', this.redis.keys.session(sessionId).replay, replayIdPrefix(lastEventId))) as unknown[];
    if (reply[0] !== 1) return { kind: 'unknown' };
    return { kind: 'frames', frames: reply.slice(1).map((e) => decodeReplayFrame(String(e))) };
  }

  async resetReplay(sessionId: string): Promise<void> {
    await this.redis.run(() => this.redis.client.del(this.redis.keys.session(sessionId).replay));
  }
}
