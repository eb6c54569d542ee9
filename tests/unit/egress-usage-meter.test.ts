// Pins gateway/src/egress/usage-meter.ts: usage from streamed message_start/message_delta events
// (cumulative: the largest value per field, never a sum), from non-streamed JSON, across
// arbitrary chunk boundaries (including inside a UTF-8 character), and for cut-off streams.
import { describe, expect, test } from 'vitest';
import { UsageMeter, meterFormatFor, totalTokens } from '@berth/gateway/egress';

function sse(event: string, data: object): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

const stream = [
  sse('message_start', {
    type: 'message_start',
    message: { id: 'msg_1', usage: { input_tokens: 120, output_tokens: 1, cache_creation_input_tokens: 30, cache_read_input_tokens: 400 } },
  }),
  ': ping\n\n',
  sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'héllo — ✓' } }),
  sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 57 } }),
  sse('message_stop', { type: 'message_stop' }),
].join('');

describe('UsageMeter', () => {
  test('SSE: input and cache from message_start, output from message_delta (cumulative, not summed)', () => {
    const meter = new UsageMeter('sse');
    meter.push(Buffer.from(stream));
    expect(meter.result()).toEqual({ inputTokens: 120, outputTokens: 57, cacheCreationInputTokens: 30, cacheReadInputTokens: 400 });
  });

  test('SSE split at every byte, including inside multi-byte characters, meters the same', () => {
    const meter = new UsageMeter('sse');
    const bytes = Buffer.from(stream);
    for (let i = 0; i < bytes.length; i++) meter.push(bytes.subarray(i, i + 1));
    expect(meter.result()).toEqual({ inputTokens: 120, outputTokens: 57, cacheCreationInputTokens: 30, cacheReadInputTokens: 400 });
  });

  test('a message_delta repeating input counts (newer API versions) does not double them', () => {
    const meter = new UsageMeter('sse');
    meter.push(Buffer.from(sse('message_start', { type: 'message_start', message: { usage: { input_tokens: 10, output_tokens: 1 } } })));
    meter.push(Buffer.from(sse('message_delta', { type: 'message_delta', usage: { input_tokens: 10, output_tokens: 5 } })));
    meter.push(Buffer.from(sse('message_delta', { type: 'message_delta', usage: { output_tokens: 9 } })));
    expect(meter.result()).toEqual({ inputTokens: 10, outputTokens: 9, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 });
  });

  test('a stream cut off after message_start meters what it reported so far', () => {
    const meter = new UsageMeter('sse');
    meter.push(Buffer.from(stream.slice(0, stream.indexOf('event: content_block_delta') + 10)));
    expect(meter.result()).toEqual({ inputTokens: 120, outputTokens: 1, cacheCreationInputTokens: 30, cacheReadInputTokens: 400 });
  });

  test('a stream without usage (an error event) meters nothing', () => {
    const meter = new UsageMeter('sse');
    meter.push(Buffer.from(sse('error', { type: 'error', error: { type: 'overloaded_error' } })));
    expect(meter.result()).toBeNull();
  });

  test('non-streamed JSON: the body usage, even in chunks', () => {
    const meter = new UsageMeter('json');
    const body = JSON.stringify({ id: 'msg_2', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 11, output_tokens: 3 } });
    meter.push(Buffer.from(body.slice(0, 20)));
    meter.push(Buffer.from(body.slice(20)));
    expect(meter.result()).toEqual({ inputTokens: 11, outputTokens: 3, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 });
  });

  test('JSON beyond maxJsonBytes is not metered and says why', () => {
    const meter = new UsageMeter('json', { maxJsonBytes: 10 });
    meter.push(Buffer.from(JSON.stringify({ usage: { input_tokens: 11, output_tokens: 3 } })));
    expect(meter.result()).toBeNull();
    expect(meter.problem).toContain('maxJsonBytes');
  });

  test('negative, fractional and non-numeric counts are ignored or floored', () => {
    const meter = new UsageMeter('json');
    meter.push(Buffer.from(JSON.stringify({ usage: { input_tokens: -5, output_tokens: 2.9, cache_read_input_tokens: '7' } })));
    expect(meter.result()).toEqual({ inputTokens: 0, outputTokens: 2, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 });
  });

  test('meterFormatFor and totalTokens', () => {
    expect(meterFormatFor('text/event-stream; charset=utf-8')).toBe('sse');
    expect(meterFormatFor('application/json')).toBe('json');
    expect(meterFormatFor('text/html')).toBe('none');
    expect(meterFormatFor(undefined)).toBe('none');
    expect(totalTokens({ inputTokens: 1, outputTokens: 2, cacheCreationInputTokens: 3, cacheReadInputTokens: 4 })).toBe(10);
  });
});
