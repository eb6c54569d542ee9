// GET /openapi.json is kept true against a real in-process stack (local backend, real Agent SDK,
// offline model): every route the express app serves is documented with its method, every
// documented operation is served (a request to it is not a 404 `not_found` or a 405), and real
// answers validate against the documented responses: a turn's SSE frames (turn, message,
// approval_request, approval_resolved, done) one by one, the session views and listings, the
// event log's JSON page and its 204 past the end, problems (401, 403, 404, 405, 410), the pool,
// usage, probes and the admin API. The document's own validity: tests/unit/openapi-document.test.ts.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SseParser, type SseFrame } from '@berth/protocol';
import { openApiDocument } from '@berth/gateway/openapi';
import { hashToken } from '@berth/gateway/tenants';
import { documentedRoutes, expressRoutes, OpenApiChecker, type DocumentedAnswer } from '../fixtures/openapi.js';
import { sendMessage, startTestStack, TEST_TOKENS, type TestStack } from '../fixtures/stack.js';

let s: TestStack;
let dir: string;
const checker = new OpenApiChecker(openApiDocument);

// alice's profile asks before Bash runs, so a turn shows approval_request and approval_resolved.
const tenantsYaml = (): string => `tenants:
  alice:
    tokenHashes: ["${hashToken(TEST_TOKENS.alice)}"]
    agent: { allowedTools: [Bash], permissionMode: default, maxTurns: 8, approvalTimeoutS: 600, permissions: { default: allow, rules: [{ tool: Bash, decision: ask }] } }
  bob:
    tokenHashes: ["${hashToken(TEST_TOKENS.bob)}"]
    limits: { tokenBudget: { tokens: 1000000, periodS: 86400 } }
admins:
  tokenHashes: ["${hashToken(TEST_TOKENS.admin)}"]
`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-openapi-'));
  await writeFile(path.join(dir, 'tenants.yaml'), tenantsYaml());
  s = await startTestStack({ poolSize: 1, dir });
});
afterAll(async () => {
  await s?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Call {
  answer: DocumentedAnswer;
  frames: SseFrame[];
}

/** One request; the answer parsed as the checker reads it (JSON body, or the stream's frames). */
async function call(method: string, route: string, options: { token?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Call> {
  const res = await fetch(s.url + route, {
    method,
    headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  const contentType = res.headers.get('content-type');
  const text = await res.text();
  const frames = contentType?.startsWith('text/event-stream') ? new SseParser().push(text) : [];
  let body: unknown;
  if (/^application\/(problem\+)?json/.test(contentType ?? '')) body = JSON.parse(text);
  else if (contentType?.startsWith('text/plain')) body = text;
  return { answer: { method, path: route.split('?')[0]!, status: res.status, contentType, headers: res.headers, body }, frames };
}

/** Fails naming every way the answer (and each of its frames) departs from the document. */
function expectDocumented({ answer, frames }: Call, status?: number): void {
  if (status !== undefined) expect(answer.status, `${answer.method} ${answer.path}`).toBe(status);
  expect(checker.check(answer)).toEqual([]);
  expect(frameErrors(frames)).toEqual([]);
}

function frameErrors(frames: SseFrame[]): string[] {
  return frames.flatMap((f) => checker.errors('StreamFrame', { ...f, data: JSON.parse(f.data) as unknown }).map((e) => `${f.event} ${f.id}: ${e}`));
}

describe('routes', () => {
  test('GET /openapi.json serves the document without a credential', async () => {
    const got = await call('GET', '/openapi.json');
    expectDocumented(got, 200);
    expect(got.answer.body).toEqual(openApiDocument);
  });

  test('every express route is documented with its method, and nothing else is', () => {
    const app = s.stack.gateway!.server.listeners('request')[0];
    expect(expressRoutes(app)).toEqual(documentedRoutes(openApiDocument));
  });

  test('every documented operation is served: no 404 not_found, no 405, and the answer is documented', async () => {
    const probes = documentedRoutes(openApiDocument).map((route) => {
      const [method, template] = route.split(' ') as [string, string];
      const operation = checker.operation(method, template.replace(/\{(\w+)\}/g, 'x'))!;
      const open = operation.security?.length === 0;
      const token = open ? undefined : template.startsWith('/admin') ? TEST_TOKENS.admin : TEST_TOKENS.alice;
      // Placeholders name nothing: each request is refused or a no-op, never a turn.
      const concrete = template.replace('{id}', 'openapi-absent').replace('{requestId}', 'req-1');
      return { method, concrete, token };
    });
    for (const { method, concrete, token } of probes) {
      const got = await call(method, concrete, { ...(token ? { token } : {}), ...(method === 'POST' ? { body: '{}' } : {}) });
      const code = (got.answer.body as { code?: string } | undefined)?.code;
      expect([method, concrete, got.answer.status, code]).not.toEqual([method, concrete, 404, 'not_found']);
      expect(got.answer.status, `${method} ${concrete}`).not.toBe(405);
      expectDocumented(got);
    }
  });

  test('the walk can tell: an unknown path is 404 not_found, a wrong method is 405 with Allow', async () => {
    const unknown = await call('GET', '/sessions/x/nothing-here', { token: TEST_TOKENS.alice });
    expect(unknown.answer.status).toBe(404);
    expect(checker.errors('Problem', unknown.answer.body)).toEqual([]);
    const wrong = await call('PUT', '/sessions/x', { token: TEST_TOKENS.alice });
    expect(wrong.answer.status).toBe(405);
    expect(wrong.answer.headers.get('allow')).toBe('DELETE, GET, HEAD');
    expect(checker.errors(openApiDocument.components.responses['Problem405']!.content!['application/problem+json']!.schema, wrong.answer.body)).toEqual([]);
  });
});

describe('real answers validate against the documented responses', () => {
  const id = 'openapi-turn';
  const alice = { token: TEST_TOKENS.alice };
  let requestId = '';
  let lastId = '';

  test('a turn that asks for approval: its stream and every frame, and the approval answer', async () => {
    const failures: unknown[] = [];
    const answers: Array<Promise<void>> = [];
    const turn = await sendMessage(s.url, id, 'go [[bash: echo approved]]', {
      token: TEST_TOKENS.alice,
      onFrame: (frame) => {
        if (frame.event !== 'approval_request' || answers.length > 0) return;
        requestId = (JSON.parse(frame.data) as { requestId: string }).requestId;
        const answered = call('POST', `/sessions/${id}/approvals/${requestId}`, { ...alice, body: JSON.stringify({ decision: 'allow' }) })
          .then((got) => expectDocumented(got, 200))
          .catch((error: unknown) => void failures.push(error));
        answers.push(answered);
      },
    });
    await Promise.all(answers);
    expect(failures).toEqual([]);
    expect(turn.status).toBe(200);
    expect(checker.check({ method: 'POST', path: `/sessions/${id}/messages`, status: 200, contentType: turn.contentType, headers: turn.headers })).toEqual([]);
    expect(frameErrors(turn.frames)).toEqual([]);
    expect(new Set(turn.frames.map((f) => f.event))).toEqual(new Set(['turn', 'message', 'approval_request', 'approval_resolved', 'done']));
    lastId = turn.frames.at(-1)!.id!;
  });

  test('session view, and the listing page by page', async () => {
    expectDocumented(await call('GET', `/sessions/${id}`, alice), 200);
    const now = Date.now();
    await s.stack.store.sessions.createSession({ id: 'openapi-page', tenant: 'alice', profile: 'default', sandbox: null, sdkSessionId: null, createdAt: now, lastActivityAt: now, turns: 0 });
    expectDocumented(await call('GET', '/sessions', alice), 200);
    const first = await call('GET', '/sessions?limit=1', alice);
    expectDocumented(first, 200);
    const { nextCursor } = first.answer.body as { nextCursor: string };
    expect(nextCursor).toEqual(expect.any(String));
    expectDocumented(await call('GET', `/sessions?limit=1&cursor=${encodeURIComponent(nextCursor)}`, alice), 200);
    expectDocumented(await call('GET', '/sessions?limit=0', alice), 400);
  });

  test('the event log: stream, JSON pages, 204 past the end, 410 for a gap; resumes', async () => {
    const tail = await call('GET', `/sessions/${id}/events`, alice);
    expectDocumented(tail, 200);
    expect(tail.frames.at(-1)?.event).toBe('done');
    const page = await call('GET', `/sessions/${id}/events?format=json&limit=2`, alice);
    expectDocumented(page, 200);
    const { nextAfter } = page.answer.body as { nextAfter: string };
    expectDocumented(await call('GET', `/sessions/${id}/events?format=json&after=${nextAfter}`, alice), 200);
    expectDocumented(await call('GET', `/sessions/${id}/events`, { ...alice, headers: { 'last-event-id': lastId } }), 204);
    expectDocumented(await call('GET', `/sessions/${id}/events?format=json&after=99:0`, alice), 410);
    expectDocumented(await call('GET', `/sessions/${id}/stream`, { ...alice, headers: { 'last-event-id': '1:0' } }), 200);
    expectDocumented(await call('POST', `/sessions/${id}/messages`, { ...alice, headers: { 'last-event-id': '1:0' }, body: '{}' }), 200);
  });

  test('steering an idle session, and problems: 401, 403, 404', async () => {
    expectDocumented(await call('POST', `/sessions/${id}/interrupt`, alice), 200);
    expectDocumented(await call('POST', `/sessions/${id}/approvals/${requestId}`, { ...alice, body: JSON.stringify({ decision: 'deny' }) }), 404);
    expectDocumented(await call('GET', `/sessions/${id}`, { token: TEST_TOKENS.bob }), 403);
    expectDocumented(await call('GET', `/sessions/${id}`), 401);
    expectDocumented(await call('GET', '/sessions/no-such-session', alice), 404);
    expectDocumented(await call('GET', '/sessions/bad.id', alice), 400);
  });

  test('operations and probes', async () => {
    for (const route of ['/healthz', '/health', '/readyz', '/metrics']) expectDocumented(await call('GET', route), 200);
    expectDocumented(await call('GET', '/api/pool', alice), 200);
    expectDocumented(await call('GET', '/api/usage', alice), 200);
    expectDocumented(await call('GET', '/api/usage?limit=1', alice), 200);
    expectDocumented(await call('GET', '/api/usage?limit=0', alice), 400);
    expectDocumented(await call('GET', '/api/usage?cursor=nope', alice), 400);
    // bob has a token budget: its window is part of the answer.
    const bobUsage = await call('GET', '/api/usage', { token: TEST_TOKENS.bob });
    expectDocumented(bobUsage, 200);
    expect(bobUsage.answer.body).toMatchObject({ budget: { tokens: 1000000, periodS: 86400 } });
    expectDocumented(await call('GET', '/api/usage', { token: TEST_TOKENS.admin }), 403);
  });

  test('the admin API', async () => {
    const admin = { token: TEST_TOKENS.admin };
    expectDocumented(await call('GET', '/admin/sessions?limit=1', admin), 200);
    expectDocumented(await call('GET', '/admin/sessions?tenant=alice', admin), 200);
    expectDocumented(await call('GET', `/admin/sessions/${id}`, admin), 200);
    expectDocumented(await call('GET', '/admin/pool', admin), 200);
    expectDocumented(await call('GET', '/admin/usage', admin), 200);
    expectDocumented(await call('GET', '/admin/usage?tenant=alice', admin), 200);
    expectDocumented(await call('GET', '/admin/usage?tenant=alice&limit=1', admin), 200);
    expectDocumented(await call('GET', '/admin/usage?tenant=alice&cursor=nope', admin), 400);
    expectDocumented(await call('GET', '/admin/usage?limit=1', admin), 400);
    expectDocumented(await call('POST', '/admin/tenants/check', { ...admin, body: await readFile(path.join(dir, 'tenants.yaml'), 'utf8') }), 200);
    expectDocumented(await call('POST', '/admin/tenants/check', { ...admin, body: 'tenants: { x: { limts: 1 } }' }), 200);
    expectDocumented(await call('GET', '/admin/sessions', alice), 403);
    const now = Date.now();
    await s.stack.store.sessions.createSession({ id: 'openapi-admin', tenant: 'bob', profile: 'default', sandbox: null, sdkSessionId: null, createdAt: now, lastActivityAt: now, turns: 0 });
    expectDocumented(await call('DELETE', '/admin/sessions/openapi-admin', admin), 200);
  });

  test('delete, last', async () => {
    expectDocumented(await call('DELETE', `/sessions/${id}`, alice), 200);
  });
});
