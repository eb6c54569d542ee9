// @berth/client's own SSE parser (client/src/sse-parser.ts): the event-stream rules a client
// depends on (LF, CRLF and lone-CR line ends, also split across chunks; multi-line data;
// comments; id persisting; retry; a leading BOM), and its bounds: a line or frame past its byte
// limit throws, however it is chunked. Plus Retry-After parsing, which the reconnect loop uses.
import { describe, expect, test } from 'vitest';
import { parseRetryAfter, SseLimitError, SseParser, type SseFrame } from '@berth/client';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Feeds `text` in chunks of `size` bytes (1: every byte alone, the hardest split). */
function parse(text: string, size = Infinity, parser = new SseParser()): SseFrame[] {
  const all = bytes(text);
  const frames: SseFrame[] = [];
  const step = Number.isFinite(size) ? size : all.length || 1;
  for (let i = 0; i < all.length; i += step) frames.push(...parser.push(all.subarray(i, i + step)));
  return frames;
}

describe('framing', () => {
  const stream = 'id: 1:0\nevent: turn\ndata: {"turn":1}\n\n: heartbeat\n\nid: 1:1\ndata: {"type":"assistant"}\n\n';
  const expected: SseFrame[] = [
    { id: '1:0', event: 'turn', data: '{"turn":1}' },
    { id: '1:1', event: 'message', data: '{"type":"assistant"}' },
  ];

  test.each([['LF', '\n'], ['CRLF', '\r\n'], ['CR', '\r']])('%s line ends give the same frames, whole or byte by byte', (_name, eol) => {
    const text = stream.replace(/\n/g, eol);
    expect(parse(text)).toEqual(expected);
    expect(parse(text, 1)).toEqual(expected);
    expect(parse(text, 3)).toEqual(expected);
  });

  test('a CRLF split between two chunks is one line end, not an empty line (which would dispatch early)', () => {
    const parser = new SseParser();
    expect(parser.push(bytes('data: a\r'))).toEqual([]);
    expect(parser.push(bytes('\ndata: b\r\n\r\n'))).toEqual([{ id: '', event: 'message', data: 'a\nb' }]);
  });

  test('multi-line data joins with LF; a field without a value and a value without its space are read as the spec says', () => {
    expect(parse('data: one\ndata:two\ndata\ndata:  four\n\n')).toEqual([{ id: '', event: 'message', data: 'one\ntwo\n\n four' }]);
  });

  test('comments, unknown fields and data-less frames dispatch nothing; the id persists to later frames', () => {
    const parser = new SseParser();
    expect(parse(': hello\nfoo: bar\n\nid: 7\n\ndata: x\n\n', Infinity, parser)).toEqual([{ id: '7', event: 'message', data: 'x' }]);
    expect(parser.lastEventId).toBe('7');
    expect(parse('id: a\u0000b\ndata: y\n\n', Infinity, parser)).toEqual([{ id: '7', event: 'message', data: 'y' }]);
  });

  test('retry: sets retryMs when it is digits only', () => {
    const parser = new SseParser();
    parse('retry: 2500\n\nretry: soon\n\n', Infinity, parser);
    expect(parser.retryMs).toBe(2500);
  });

  test('a leading BOM is dropped; multi-byte characters split across chunks survive', () => {
    expect(parse('\uFEFFdata: ünïcødé ✓\n\n', 1)).toEqual([{ id: '', event: 'message', data: 'ünïcødé ✓' }]);
  });

  test('an unterminated frame at the end of the stream is not dispatched', () => {
    expect(parse('data: complete\n\ndata: partial\n')).toEqual([{ id: '', event: 'message', data: 'complete' }]);
  });
});

describe('bounds', () => {
  test('a line that never ends throws once it passes maxLineBytes, however it is chunked', () => {
    const parser = new SseParser({ maxLineBytes: 64 });
    expect(() => {
      for (let i = 0; i < 100; i++) parser.push(bytes('xxxxxxxx'));
    }).toThrow(SseLimitError);
    expect(() => new SseParser({ maxLineBytes: 64 }).push(bytes(`data: ${'y'.repeat(100)}\n`))).toThrow(/line exceeded 64 bytes/);
  });

  test('many short data lines past maxFrameBytes throw; the same lines split over frames do not', () => {
    const line = `data: ${'z'.repeat(20)}\n`;
    expect(() => parse(line.repeat(10) + '\n', Infinity, new SseParser({ maxFrameBytes: 100 }))).toThrow(expect.objectContaining({ limit: 'frame', maxBytes: 100 }));
    const frames = parse((line + '\n').repeat(10), Infinity, new SseParser({ maxFrameBytes: 100 }));
    expect(frames).toHaveLength(10);
  });

  test('a line exactly at the limit passes', () => {
    const value = 'v'.repeat(64 - 'data: '.length);
    expect(parse(`data: ${value}\n\n`, 7, new SseParser({ maxLineBytes: 64, maxFrameBytes: 100 }))).toEqual([{ id: '', event: 'message', data: value }]);
  });
});

describe('Retry-After', () => {
  test('delta seconds and HTTP dates are seconds; anything else is undefined', () => {
    const now = () => Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('22', now)).toBe(22);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
