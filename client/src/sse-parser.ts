// The client's own Server-Sent Events parser (WHATWG HTML "event stream interpretation"), kept
// here rather than imported from @berth/protocol so the client publishes alone. It works on
// bytes, so its bounds are real bytes: a server that never ends a line, or sends one endless
// frame, cannot grow the client's memory past maxLineBytes / maxFrameBytes. Lines end in LF,
// CRLF or a lone CR (also when a CRLF is split across chunks); a leading BOM is dropped;
// comments are skipped; `id` persists across frames as the spec's last event id; `retry`
// sets retryMs. It does not reconnect: event-stream.ts does.

/** One dispatched frame. `event` defaults to "message" as in EventSource. */
export interface SseFrame {
  /** The last event id at dispatch time ('' when the stream never set one). */
  id: string;
  event: string;
  data: string;
}

export interface SseLimits {
  /**
   * Longest line accepted, in bytes. Default 4 MiB: a berth frame is one `data:` line holding
   * one SDK message, which the agent caps at 1 MiB by default (profile maxFrameBytes); raise
   * this if your profiles raise that. Lower makes large tool results unreadable.
   */
  maxLineBytes?: number;
  /** Largest frame (all its data lines), in bytes. Default 4 MiB, for the same reason. */
  maxFrameBytes?: number;
}

export const DEFAULT_SSE_LIMITS: Required<SseLimits> = { maxLineBytes: 4 * 1024 * 1024, maxFrameBytes: 4 * 1024 * 1024 };

/** A line or frame went past its bound; the stream must be dropped (its framing is lost). */
export class SseLimitError extends Error {
  constructor(readonly limit: 'line' | 'frame', readonly maxBytes: number) {
    super(`an event-stream ${limit} exceeded ${maxBytes} bytes`);
    this.name = 'SseLimitError';
  }
}

const LF = 0x0a;
const CR = 0x0d;

export class SseParser {
  /** The spec's last event id: set by `id:` fields, kept across frames and reconnects. */
  lastEventId = '';
  /** The reconnection time the server asked for with `retry:`, in ms; undefined until it does. */
  retryMs: number | undefined;

  private readonly maxLineBytes: number;
  private readonly maxFrameBytes: number;
  private readonly decoder = new TextDecoder();
  /** Bytes of the line not yet ended, held across chunks. */
  private partial: Uint8Array[] = [];
  private partialBytes = 0;
  /** The previous chunk ended in CR: a LF starting this one belongs to it. */
  private afterCr = false;
  private firstLine = true;
  private data: string[] = [];
  private dataBytes = 0;
  private event = '';

  constructor(limits: SseLimits = {}) {
    this.maxLineBytes = limits.maxLineBytes ?? DEFAULT_SSE_LIMITS.maxLineBytes;
    this.maxFrameBytes = limits.maxFrameBytes ?? DEFAULT_SSE_LIMITS.maxFrameBytes;
  }

  /** Feeds bytes; returns the frames they completed, in order. Throws SseLimitError past a bound. */
  push(chunk: Uint8Array): SseFrame[] {
    const frames: SseFrame[] = [];
    let start = 0;
    if (this.afterCr && chunk.length > 0) {
      if (chunk[0] === LF) start = 1;
      this.afterCr = false;
    }
    for (let i = start; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte !== LF && byte !== CR) continue;
      const frame = this.endLine(chunk.subarray(start, i));
      if (frame) frames.push(frame);
      if (byte === CR) {
        if (i + 1 < chunk.length) {
          if (chunk[i + 1] === LF) i++;
        } else {
          this.afterCr = true;
        }
      }
      start = i + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.partialBytes += rest.length;
      if (this.partialBytes > this.maxLineBytes) throw new SseLimitError('line', this.maxLineBytes);
      // Copied: the caller may reuse its buffer.
      this.partial.push(rest.slice());
    }
    return frames;
  }

  private endLine(tail: Uint8Array): SseFrame | undefined {
    let bytes = tail;
    if (this.partial.length > 0) {
      bytes = new Uint8Array(this.partialBytes + tail.length);
      let offset = 0;
      for (const part of this.partial) {
        bytes.set(part, offset);
        offset += part.length;
      }
      bytes.set(tail, offset);
      this.partial = [];
      this.partialBytes = 0;
    }
    if (bytes.length > this.maxLineBytes) throw new SseLimitError('line', this.maxLineBytes);
    let line = this.decoder.decode(bytes);
    if (this.firstLine) {
      this.firstLine = false;
      if (line.startsWith('\uFEFF')) line = line.slice(1);
    }
    return this.takeLine(line, bytes.length);
  }

  private takeLine(line: string, lineBytes: number): SseFrame | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        // +1 for the newline that joins data lines.
        this.dataBytes += lineBytes + 1;
        if (this.dataBytes > this.maxFrameBytes) throw new SseLimitError('frame', this.maxFrameBytes);
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\u0000')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d{1,9}$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break; // Unknown fields are ignored (spec).
    }
    return undefined;
  }

  private dispatch(): SseFrame | undefined {
    const hadData = this.data.length > 0;
    const frame: SseFrame = { id: this.lastEventId, event: this.event === '' ? 'message' : this.event, data: this.data.join('\n') };
    this.data = [];
    this.dataBytes = 0;
    this.event = '';
    // A frame with no data line is not dispatched (spec); its id still counts.
    return hadData ? frame : undefined;
  }
}
