// The offline model with plain fetch: routing, SSE shape (event: lines, the sequence of
// agent-sdk-offline.md §9), the non-stream fallback, deterministic echo and usage, the Bash
// marker round-trip, and every scripted reply kind. The real CLI against it is covered by the
// agent server's e2e tests.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { planReply, startOfflineModel, type OfflineModel } from '@berth/cli/offline-model';

let model: OfflineModel;
beforeAll(async () => {
  model = await startOfflineModel();
});
afterAll(() => model.close());

type Msg = { role: string; content: unknown };
const user = (text: string): Msg => ({ role: 'user', content: [{ type: 'text', text }] });

function post(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${model.url}/v1/messages?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k', ...headers }, body: JSON.stringify(body) });
}

async function events(res: Response): Promise<Array<{ event: string; data: Record<string, unknown> }>> {
  const text = await res.text();
  return text.split('\n\n').filter(Boolean).map((block) => {
    const [eventLine, dataLine] = block.split('\n');
    expect(eventLine).toMatch(/^event: /);
    return { event: eventLine!.slice(7), data: JSON.parse(dataLine!.slice(6)) as Record<string, unknown> };
  });
}

const textOf = (evs: Array<{ event: string; data: Record<string, unknown> }>): string =>
  evs.filter((e) => e.event === 'content_block_delta').map((e) => (e.data.delta as { text?: string }).text ?? '').join('');

test('streams the echo reply in the Messages API SSE sequence, skipping role:"system" and reminders', async () => {
  const body = { model: 'm-x', stream: true, messages: [user('first'), { role: 'system', content: 'env' }, { role: 'assistant', content: [{ type: 'text', text: 'ok' }] }, { role: 'user', content: [{ type: 'text', text: '<system-reminder>x</system-reminder>' }, { type: 'text', text: 'second' }] }] };
  const res = await post(body);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const evs = await events(res);
  expect([...new Set(evs.map((e) => e.event))]).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  expect(textOf(evs)).toBe('offline model: you said "second" (turn 2; earlier user turns: ["first"])');
  const start = (evs[0]!.data.message as { model: string; usage: Record<string, number> });
  expect(start.model).toBe('m-x');
  expect(start.usage).toEqual({ input_tokens: Math.ceil(JSON.stringify(body).length / 4), output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  const delta = evs.find((e) => e.event === 'message_delta')!.data as { delta: { stop_reason: string }; usage: Record<string, number> };
  expect(delta.delta.stop_reason).toBe('end_turn');
  expect(delta.usage.output_tokens).toBe(Math.ceil(textOf(evs).length / 4));
  expect(delta.usage).toHaveProperty('cache_read_input_tokens', 0);
});

test('records method, path without query, headers and the parsed body', async () => {
  await (await post({ stream: false, messages: [user('rec')] }, { authorization: 'Bearer t' })).text();
  const last = model.requests.at(-1)!;
  expect(last).toMatchObject({ method: 'POST', path: '/v1/messages', query: 'beta=true', kind: 'main' });
  expect(last.headers['x-api-key']).toBe('k');
  expect(last.headers.authorization).toBe('Bearer t');
  expect(last.body?.messages).toEqual([user('rec')]);
});

test('stream:false gets one JSON message; other routes are 404', async () => {
  const res = await post({ model: 'm', stream: false, messages: [user('plain')] });
  expect(res.headers.get('content-type')).toBe('application/json');
  const json = (await res.json()) as { type: string; content: Array<{ text: string }>; stop_reason: string; usage: Record<string, number> };
  expect(json).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn' });
  expect(json.content[0]!.text).toContain('you said "plain"');
  expect(json.usage.output_tokens).toBeGreaterThan(0);
  const other = await fetch(`${model.url}/api/hello`, { method: 'HEAD' });
  expect(other.status).toBe(404);
});

test('a [[bash: …]] marker with a Bash tool gets a tool_use; the tool_result is echoed', async () => {
  const evs = await events(await post({ stream: true, tools: [{ name: 'Bash' }], messages: [user('do it [[bash: echo hi > f]]')] }));
  const toolStart = evs.find((e) => e.event === 'content_block_start' && (e.data.content_block as { type: string }).type === 'tool_use')!;
  const toolId = (toolStart.data.content_block as { id: string }).id;
  const json = evs.find((e) => (e.data.delta as { type?: string } | undefined)?.type === 'input_json_delta')!;
  expect(JSON.parse((json.data.delta as { partial_json: string }).partial_json)).toMatchObject({ command: 'echo hi > f' });
  expect((evs.find((e) => e.event === 'message_delta')!.data.delta as { stop_reason: string }).stop_reason).toBe('tool_use');
  const after = await (await post({ stream: false, tools: [{ name: 'Bash' }], messages: [user('x'), { role: 'assistant', content: [] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolId, content: 'hi' }] }] })).json();
  expect((after as { content: Array<{ text: string }> }).content[0]!.text).toBe('offline model: the command printed "hi"');
  // Without a Bash tool the marker is just text.
  const noTool = await (await post({ stream: false, messages: [user('[[bash: ls]]')] })).json();
  expect((noTool as { content: Array<{ type: string }> }).content[0]!.type).toBe('text');
});

test('scripted replies are FIFO per main request; title requests answer JSON without consuming them', async () => {
  model.script({ kind: 'text', text: 'scripted one' }, { kind: 'tool_use', name: 'Read', input: { file_path: '/x' }, text: 'reading' });
  const title = await (await post({ stream: false, output_config: { format: { type: 'json_schema', schema: {} } }, messages: [user('<session>name me</session>')] })).json();
  expect(JSON.parse((title as { content: Array<{ text: string }> }).content[0]!.text)).toHaveProperty('title');
  expect(model.requests.at(-1)?.kind).toBe('title');
  expect(model.pending()).toBe(2);
  expect(textOf(await events(await post({ stream: true, messages: [user('a')] })))).toBe('scripted one');
  const second = (await (await post({ stream: false, messages: [user('b')] })).json()) as { content: Array<Record<string, unknown>>; stop_reason: string };
  expect(second.content.map((b) => b.type)).toEqual(['text', 'tool_use']);
  expect(second.content[1]).toMatchObject({ name: 'Read', input: { file_path: '/x' } });
  expect(second.stop_reason).toBe('tool_use');
  expect(model.pending()).toBe(0);
});

test('scripted HTTP errors carry Anthropic error bodies; 429 has retry-after', async () => {
  model.script({ kind: 'status', status: 429, retryAfterS: 7 }, { kind: 'status', status: 500 }, { kind: 'status', status: 529 });
  const limited = await post({ stream: true, messages: [user('x')] });
  expect(limited.status).toBe(429);
  expect(limited.headers.get('retry-after')).toBe('7');
  expect(await limited.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  const failed = await post({ stream: true, messages: [user('x')] });
  expect(failed.status).toBe(500);
  expect(await failed.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  const overloaded = await post({ stream: true, messages: [user('x')] });
  expect(overloaded.status).toBe(529);
  expect(await overloaded.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
});

test('cut destroys the socket after content_block_start; slow still completes in order', async () => {
  model.script({ kind: 'cut' }, { kind: 'slow', delayMs: 5, text: 'slowly but surely' });
  const cut = await post({ stream: true, messages: [user('x')] });
  expect(cut.status).toBe(200);
  await expect(cut.text()).rejects.toThrow();
  const slow = await events(await post({ stream: true, messages: [user('x')] }));
  expect(textOf(slow)).toBe('slowly but surely');
  expect(slow.at(-1)?.event).toBe('message_stop');
});

test('a body that is not JSON is a 400 invalid_request_error', async () => {
  const res = await fetch(`${model.url}/v1/messages`, { method: 'POST', body: '{nope' });
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
});

test('[[slow: ms]] in the last prompt slows every default reply of that turn; without it there is no delay', () => {
  const slow = planReply({ messages: [user('take your time [[slow: 250]]')] }, undefined, 1);
  expect(slow).toMatchObject({ kind: 'message', delayMs: 250 });
  const afterTool = planReply({ messages: [user('go [[slow: 250]] [[bash: true]]'), { role: 'user', content: [{ type: 'tool_result', content: 'ok' }] }] }, undefined, 2);
  expect(afterTool).toMatchObject({ kind: 'message', delayMs: 250 });
  expect(planReply({ messages: [user('[[slow: 250]] earlier'), user('now')] }, undefined, 3)).toMatchObject({ delayMs: 0 });
  expect(planReply({ messages: [user('[[slow: 9999999]]')] }, undefined, 4)).toMatchObject({ delayMs: 0 });
});
