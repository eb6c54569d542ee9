// TranscriptLog on Redis: a list of entry JSON per session plus the set of uuids stored, in the
// session's slot; one script appends a batch, skipping known uuids, atomically.

import type { StoredTranscriptEntry } from '@berth/protocol';
import type { TranscriptLog } from '../transcript-log.js';
import type { RedisCommands } from './redis-commands.js';

export class RedisTranscriptLog implements TranscriptLog {
  constructor(private readonly redis: RedisCommands) {}

  async appendTranscript(sessionId: string, entries: StoredTranscriptEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const k = this.redis.keys.session(sessionId);
    const args = entries.flatMap((e) => [e.entry.uuid === undefined ? '-' : `u:${e.entry.uuid}`, JSON.stringify(e)]);
    return Number(await this.redis.script('berthAppendTranscript', k.transcript, k.transcriptUuids, ...args));
  }

  async loadTranscript(sessionId: string): Promise<StoredTranscriptEntry[]> {
    const items = await this.redis.run(() => this.redis.client.lrange(this.redis.keys.session(sessionId).transcript, 0, -1));
    return items.map((item) => JSON.parse(item) as StoredTranscriptEntry);
  }
}
