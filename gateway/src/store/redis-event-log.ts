// RedisEventLog: the EventLog port on Redis Streams. A session's log is one stream under the
// session's route slot (`<prefix>{route:<shard>}:events:<id>`); a frame `<turn>:<seq>` is the
// stream entry `<turn>-<seq>`, so Redis itself refuses an id that does not grow (a re-written
// frame is skipped) and XRANGE reads from any id. Appends are one script call: XADD each frame
// (bounded to maxFrames), PEXPIRE, and PUBLISH the session id on the one channel `<prefix>events`.
// Tails: each replica holds ONE subscriber connection to that channel and fans notifications out
// in process, so an idle tail costs no store round trip and 10 000 tails cost one connection.
// A reconnect of the subscriber wakes every watcher (a notification may have been missed).
// Gaps: the append script records the highest trimmed id beside the stream (its trim floor).

import { Cluster } from 'ioredis';
import { createRedisClient, DEFAULT_COMMAND_TIMEOUT_MS, runOnRedis, toStoreError, type RedisClient, type RedisConnectionOptions } from './redis/redis-connection.js';
import { DEFAULT_KEY_PREFIX, routeShard } from './redis/redis-keys.js';
import {
  compareFrameIds,
  DEFAULT_EVENT_LOG_LIMITS,
  MAX_EVENT_READ,
  parseFrameId,
  type EventCursor,
  type EventLog,
  type EventLogLimits,
  type EventRead,
  type FrameId,
  type LoggedFrame,
} from './event-log.js';

// KEYS[1] stream, KEYS[2] its trim floor (the highest id trimmed away); ARGV: maxFrames, ttlMs,
// channel, sessionId, then (id, event, data) triples. An id at or below the stream's top is
// refused by XADD; pcall skips it (idempotent re-write). Trimming is done here rather than with
// XADD MAXLEN so the floor is known: Redis records no trimmed id (max-deleted-entry-id is XDEL's).
const APPEND = `
local appended = 0
for i = 5, #ARGV, 3 do
  local ok = redis.pcall('XADD', KEYS[1], ARGV[i], 'e', ARGV[i + 1], 'd', ARGV[i + 2])
  if type(ok) ~= 'table' or not ok.err then appended = appended + 1 end
end
if appended > 0 then
  local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[1])
  if excess > 0 then
    local trimmed = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)
    redis.call('SET', KEYS[2], trimmed[#trimmed][1])
    redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[1])
  end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return appended
`;

export interface RedisEventLogOptions extends RedisConnectionOptions {
  keyPrefix?: string;
  limits?: Partial<EventLogLimits>;
  /** Use this client instead of making one (tests); closed by close() only when made here. */
  client?: RedisClient;
}

type AppendCommand = (key: string, ...args: Array<string | number>) => Promise<number>;

export class RedisEventLog implements EventLog {
  private readonly client: RedisClient;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly limits: EventLogLimits;
  private readonly commandTimeoutMs: number;
  private subscriber: RedisClient | undefined;
  private readonly watchers = new Map<string, Set<() => void>>();

  constructor(options: RedisEventLogOptions) {
    this.client = options.client ?? createRedisClient(options);
    this.ownsClient = !options.client;
    // Failures surface per command (StoreUnavailableError); the event itself needs no handling.
    if (this.ownsClient) this.client.on('error', () => undefined);
    this.prefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.channel = `${this.prefix}events`;
    this.limits = { ...DEFAULT_EVENT_LOG_LIMITS, ...options.limits };
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.client.defineCommand('berthEventAppend', { numberOfKeys: 2, lua: APPEND });
  }

  key(sessionId: string): string {
    return `${this.prefix}{route:${routeShard(sessionId)}}:events:${encodeURIComponent(sessionId)}`;
  }

  private floorKey(sessionId: string): string {
    return `${this.prefix}{route:${routeShard(sessionId)}}:events-floor:${encodeURIComponent(sessionId)}`;
  }

  async append(sessionId: string, frames: LoggedFrame[]): Promise<void> {
    if (frames.length === 0) return;
    const args: Array<string | number> = [this.limits.maxFrames, this.limits.ttlS * 1000, this.channel, sessionId];
    for (const frame of frames) {
      const id = parseFrameId(frame.id);
      if (!id) throw new TypeError(`frame id ${JSON.stringify(frame.id)} is not <turn>:<seq>`);
      args.push(streamId(id), frame.event, frame.data);
    }
    await this.run(() => (this.client as unknown as { berthEventAppend: AppendCommand }).berthEventAppend(this.key(sessionId), this.floorKey(sessionId), ...args));
  }

  async read(sessionId: string, cursor: EventCursor | null, limit: number): Promise<EventRead> {
    const key = this.key(sessionId);
    let start = '-';
    let cursorId: FrameId | null = null;
    if (cursor) {
      cursorId = parseFrameId('after' in cursor ? cursor.after : cursor.at);
      if (!cursorId) return { kind: 'gap' };
      start = 'after' in cursor ? `(${streamId(cursorId)}` : streamId(cursorId);
    }
    const count = Math.min(MAX_EVENT_READ, Math.max(1, Math.floor(limit)));
    const replies = await this.run(() => this.client.pipeline().xinfo('STREAM', key).get(this.floorKey(sessionId)).xrange(key, start, '+', 'COUNT', count).exec());
    const [infoReply, floorReply, rangeReply] = replies ?? [];
    // XINFO on a missing stream is the error reply "no such key": the log is empty (never
    // written, or expired). Any other error (LOADING after a restart, a cut connection) is the
    // store's trouble, not a gap: read as a gap it would end a live caller's stream for good.
    const infoError = infoReply?.[0] as Error | null | undefined;
    if (infoError && !/no such key/i.test(infoError.message)) throw toStoreError(infoError);
    const info = infoError ? null : fields(infoReply?.[1] as unknown[]);
    const last = info ? fromStreamId(String(info.get('last-generated-id'))) : null;
    if (cursorId) {
      if (!last || compareFrameIds(cursorId, last) > 0) return { kind: 'gap' };
      const deleted = fromStreamId(typeof floorReply?.[1] === 'string' ? floorReply[1] : undefined);
      if (deleted && compareFrameIds(cursorId, deleted) < ('after' in cursor! ? 0 : 1)) return { kind: 'gap' };
    }
    if (rangeReply?.[0]) throw toStoreError(rangeReply[0]);
    const entries = (rangeReply?.[1] ?? []) as Array<[string, string[]]>;
    const frames = entries.map(([id, values]) => {
      const map = fields(values);
      const parsed = fromStreamId(id)!;
      return { id: `${parsed.turn}:${parsed.seq}`, event: String(map.get('e') ?? 'message'), data: String(map.get('d') ?? '') };
    });
    return { kind: 'frames', frames, last: last && last.turn > 0 ? `${last.turn}:${last.seq}` : null };
  }

  async last(sessionId: string): Promise<string | null> {
    const entries = (await this.run(() => this.client.xrevrange(this.key(sessionId), '+', '-', 'COUNT', 1))) as Array<[string, string[]]>;
    const id = entries[0] ? fromStreamId(entries[0][0]) : null;
    return id ? `${id.turn}:${id.seq}` : null;
  }

  watch(sessionId: string, onAppend: () => void): () => void {
    this.subscribe();
    let set = this.watchers.get(sessionId);
    if (!set) this.watchers.set(sessionId, (set = new Set()));
    set.add(onAppend);
    return () => {
      set.delete(onAppend);
      if (set.size === 0 && this.watchers.get(sessionId) === set) this.watchers.delete(sessionId);
    };
  }

  async remove(sessionId: string): Promise<void> {
    await this.run(() => this.client.del(this.key(sessionId), this.floorKey(sessionId)));
  }

  async close(): Promise<void> {
    this.watchers.clear();
    this.subscriber?.disconnect();
    if (this.ownsClient) await this.client.quit().catch(() => this.client.disconnect());
  }

  /** The replica's one subscriber connection, made on the first watch. */
  private subscribe(): void {
    if (this.subscriber) return;
    // A subscriber waits for notifications indefinitely: no command timeout, reconnect forever.
    const subscriber: RedisClient = this.client instanceof Cluster
      ? this.client.duplicate(undefined, { enableOfflineQueue: true })
      : this.client.duplicate({ commandTimeout: undefined, enableOfflineQueue: true });
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, sessionId: string) => this.wake(sessionId));
    // (Re)subscribed: whatever was appended while the subscription was down is read now.
    subscriber.on('ready', () => {
      subscriber.subscribe(this.channel).then(() => this.wakeAll(), () => undefined);
    });
  }

  private wake(sessionId: string): void {
    const set = this.watchers.get(sessionId);
    if (set) for (const watcher of [...set]) watcher();
  }

  private wakeAll(): void {
    for (const set of [...this.watchers.values()]) for (const watcher of [...set]) watcher();
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    return runOnRedis(this.client, this.commandTimeoutMs, command);
  }
}

function streamId(id: FrameId): string {
  return `${id.turn}-${id.seq}`;
}

function fromStreamId(value: string | undefined): FrameId | null {
  const match = /^(\d+)-(\d+)$/.exec(value ?? '');
  if (!match) return null;
  const id = { turn: Number(match[1]), seq: Number(match[2]) };
  return id.turn === 0 && id.seq === 0 ? null : id;
}

/** A flat [name, value, name, value, …] reply as a map. */
function fields(values: unknown[] | undefined): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (let i = 0; values && i + 1 < values.length; i += 2) map.set(String(values[i]), values[i + 1]);
  return map;
}
