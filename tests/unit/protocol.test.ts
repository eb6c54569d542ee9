import { describe, expect, test } from 'vitest';
import { encodeComment, encodeFrame, isValidSessionId, SseLineTooLongError, SseParser } from '@berth/protocol';

describe('session ids', () => {
  test.each(['a', 'A1', 'demo-1', 'x_y-z', '9' + 'a'.repeat(63)])('accepts %s', (id) => expect(isValidSessionId(id)).toBe(true));
  test.each(['', '-a', '_a', 'a'.repeat(65), 'a b', 'a/b', 'a.b', 'ä', '{a}', 42, null])('refuses %s', (id) => expect(isValidSessionId(id)).toBe(false));
});

describe('SSE frames', () => {
  test('encode puts id, event and one data line per line', () => {
    expect(encodeFrame({ id: '1:2', event: 'message', data: 'a\nb' })).toBe('id: 1:2\nevent: message\ndata: a\ndata: b\n\n');
    expect(encodeComment('ping\nx')).toBe(': pingx\n\n');
  });

  test('an id or event with a newline cannot inject a frame', () => {
    const text = encodeFrame({ id: '1\n\nevent: done', event: 'message', data: 'x' });
    expect(new SseParser().push(text)).toEqual([{ id: '1event: done', event: 'message', data: 'x' }]);
  });

  test('the parser is incremental, joins data lines, skips comments, and handles CRLF', () => {
    const parser = new SseParser();
    const text = encodeFrame({ id: '1', event: 'message', data: '{"a":1}\nsecond' }) + ': comment\n\n' + 'id: 2\r\nevent: done\r\ndata: {}\r\n\r\n';
    const frames = [];
    for (const ch of text) frames.push(...parser.push(ch));
    expect(frames).toEqual([
      { id: '1', event: 'message', data: '{"a":1}\nsecond' },
      { id: '2', event: 'done', data: '{}' },
    ]);
  });

  test('a line longer than the bound is refused instead of growing memory', () => {
    const parser = new SseParser({ maxLineBytes: 100 });
    expect(() => parser.push('data: ' + 'x'.repeat(200))).toThrow(SseLineTooLongError);
  });
});
