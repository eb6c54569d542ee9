// Server-Sent Events framing shared by the agent server, the gateway relay and clients.
// Every frame berth emits carries an `id:` so a caller can resume with Last-Event-ID.
// The parser is incremental and bounded: a peer that never ends a line cannot grow memory
// past maxLineBytes. It deliberately implements only the fields berth uses (id, event,
// data, comments); `retry:` is ignored as the spec allows.

export interface SseFrame {
  id?: string;
  event?: string;
  data: string;
}

/** Events of the caller contract; `transcript` frames travel agent → gateway only. */
export type BerthEvent = 'message' | 'done' | 'error' | 'transcript';

export function encodeFrame(frame: SseFrame): string {
  let out = '';
  if (frame.id !== undefined) out += `id: ${stripNewlines(frame.id)}\n`;
  if (frame.event !== undefined) out += `event: ${stripNewlines(frame.event)}\n`;
  for (const line of frame.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + '\n';
}

/** A comment line; clients ignore it, proxies see traffic (heartbeats). */
export function encodeComment(text: string): string {
  return `: ${stripNewlines(text)}\n\n`;
}

function stripNewlines(value: string): string {
  return value.replace(/[\r\n]/g, '');
}

export class SseLineTooLongError extends Error {
  readonly code = 'sse_line_too_long';
}

export interface SseParserOptions {
  /** Longest line accepted, in bytes (UTF-16 units, close enough). Default 1 MiB: one SDK message. */
  maxLineBytes?: number;
}

export class SseParser {
  private buffer = '';
  private dataLines: string[] = [];
  private id: string | undefined;
  private event: string | undefined;
  private readonly maxLineBytes: number;

  constructor(options: SseParserOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
  }

  /** Feeds a chunk and returns the frames it completed. Comments are dropped. */
  push(chunk: string): SseFrame[] {
    this.buffer += chunk;
    const frames: SseFrame[] = [];
    let start = 0;
    for (;;) {
      const newline = this.buffer.indexOf('\n', start);
      if (newline === -1) break;
      let line = this.buffer.slice(start, newline);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      start = newline + 1;
      const frame = this.takeLine(line);
      if (frame) frames.push(frame);
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length > this.maxLineBytes) {
      throw new SseLineTooLongError(`an SSE line exceeded ${this.maxLineBytes} bytes`);
    }
    return frames;
  }

  private takeLine(line: string): SseFrame | undefined {
    if (line === '') {
      if (this.dataLines.length === 0 && this.event === undefined && this.id === undefined) return undefined;
      const frame: SseFrame = { data: this.dataLines.join('\n') };
      if (this.id !== undefined) frame.id = this.id;
      if (this.event !== undefined) frame.event = this.event;
      this.dataLines = [];
      this.id = undefined;
      this.event = undefined;
      return frame;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.dataLines.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id') this.id = value;
    return undefined;
  }
}
