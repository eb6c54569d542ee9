// TranscriptLog on Redis: per session, a list of entry JSON, the set of idempotency keys stored
// and a byte counter, all in the session's slot; one script appends a batch atomically, skipping
// known keys and refusing a batch that would pass the byte cap.

import type { StoredTranscriptEntry } from '@berth/protocol';
import { transcriptDedupKey, type TranscriptAppend, type TranscriptLog } from '../transcript-log.js';
import type { RedisCommands } from './redis-commands.js';

export class RedisTranscriptLog implements TranscriptLog {
  constructor(
    private readonly redis: RedisCommands,
    private readonly maxBytes: number,
  ) {}

  async appendTranscript(sessionId: string, entries: StoredTranscriptEntry[], keys?: ReadonlyArray<string | undefined>): Promise<TranscriptAppend> {
    const k = this.redis.keys.session(sessionId);
    if (entries.length === 0) return { kind: 'appended', appended: 0, storedBytes: Number(await this.redis.run(() => this.redis.client.get(k.transcriptBytes))) };
    const args = entries.flatMap((e, i) => [transcriptDedupKey(e, keys?.[i]) ?? '', JSON.stringify(e)]);
    const reply = (await this.redis.script('berthAppendTranscript', k.transcript, k.transcriptUuids, k.transcriptBytes, this.maxBytes, ...args)) as number[];
    if (reply[0] === 1) return { kind: 'appended', appended: Number(reply[1]), storedBytes: Number(reply[2]) };
    return { kind: 'over_limit', storedBytes: Number(reply[1]), batchBytes: Number(reply[2]), maxBytes: this.maxBytes };
  }

  async loadTranscript(sessionId: string): Promise<StoredTranscriptEntry[]> {
    const items = await this.redis.run(() => this.redis.client.lrange(this.redis.keys.session(sessionId).transcript, 0, -1));
    return items.map((item) => JSON.parse(item) as StoredTranscriptEntry);
  }
}
