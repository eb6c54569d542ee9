// Encodes a reply plan the way the Messages API does: an SSE stream with `event:` lines (the CLI
// rejects a stream without them and falls back to stream:false) or one JSON message for the
// non-stream fallback. Neighbours: replies.ts (what to say), server.ts (when and to whom).
// Usage numbers are deterministic: input from the request size, output from the reply size.

import type { ServerResponse } from 'node:http';
import type { ContentBlock } from './replies.js';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** ~4 bytes a token, like the real tokenizer on English; at least 1 so meters see something. */
export function usageFor(requestBytes: number, content: ContentBlock[]): Usage {
  const replyChars = content.reduce((n, b) => n + (b.type === 'text' ? b.text.length : JSON.stringify(b.input).length + b.name.length), 0);
  return {
    input_tokens: Math.max(1, Math.ceil(requestBytes / 4)),
    output_tokens: Math.max(1, Math.ceil(replyChars / 4)),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
}

export function messageJson(id: string, model: string, content: ContentBlock[], stopReason: string, usage: Usage): Record<string, unknown> {
  return { id, type: 'message', role: 'assistant', model, content, stop_reason: stopReason, stop_sequence: null, usage };
}

/** Events of one streamed reply, in order. Text is split into a few deltas, as the API does. */
export function streamEvents(id: string, model: string, content: ContentBlock[], stopReason: string, usage: Usage): Array<[string, unknown]> {
  const events: Array<[string, unknown]> = [];
  const startUsage = { ...usage, output_tokens: 1 };
  events.push(['message_start', { type: 'message_start', message: { ...messageJson(id, model, [], stopReason, startUsage), stop_reason: null } }]);
  content.forEach((block, index) => {
    const start = block.type === 'text' ? { type: 'text', text: '' } : { type: 'tool_use', id: block.id, name: block.name, input: {} };
    events.push(['content_block_start', { type: 'content_block_start', index, content_block: start }]);
    if (block.type === 'text') {
      for (const piece of chunk(block.text, 24)) events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }]);
    } else {
      events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } }]);
    }
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
  });
  events.push(['message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage }]);
  events.push(['message_stop', { type: 'message_stop' }]);
  return events;
}

function chunk(text: string, size: number): string[] {
  if (text.length === 0) return [''];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

export function writeEvent(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

export function errorBody(errorType: string, message: string): Record<string, unknown> {
  return { type: 'error', error: { type: errorType, message } };
}
