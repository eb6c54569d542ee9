// A standby's own egress key against the real egress gateway, through the whole stack with the
// real SDK and CLI (issue 18). Pins: a ready standby's parked CLI holds the egress endpoint under
// a key of its own and nothing of a tenant or the real key; the egress gateway refuses that key on
// both doors (401, 407) until a claim binds it; the session's first turn runs on it and its usage
// is metered to that session; while bound it opens the model to that session only; the
// replacement standby's key is another one and stays refused; after DELETE the key is refused again.
//
// Local sandboxes without isolation: the test reads the standby CLI's environment from /proc and
// replays its key from outside, both of which an isolated sandbox forbids (isolation.test.ts).

import { afterAll, beforeAll, expect, test } from 'vitest';
import { egressKeySha256, isEgressKey } from '@berth/protocol';
import { connectStatus, egressDecisions, modelCall } from '../fixtures/egress-calls.js';
import { descendants } from '../fixtures/offline-model-agent.js';
import { readEnviron, readEnvironRaw } from '../fixtures/proc-env.js';
import { REAL_KEY, authHeaders, sendMessage, startTestStack, terminalFrames, type TestStack } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

let s: TestStack;
let egressUrl: string;

beforeAll(async () => {
  s = await startTestStack({ env: { BERTH_LOCAL_ISOLATION: 'off' } });
  egressUrl = s.stack.egressUrl!;
}, 120_000);

afterAll(async () => {
  await s?.stop();
});

/** The egress keys the CLIs under this process hold (a parked standby's CLI, a session's CLI). */
function cliKeys(): Array<{ pid: number; key: string; raw: string }> {
  const found: Array<{ pid: number; key: string; raw: string }> = [];
  for (const { pid, cmdline } of descendants(process.pid)) {
    if (!cmdline.split(' ')[0]!.endsWith('/claude')) continue;
    const key = readEnviron(pid)?.ANTHROPIC_API_KEY;
    const raw = readEnvironRaw(pid);
    if (key && raw && isEgressKey(key)) found.push({ pid, key, raw });
  }
  return found;
}

async function readyStandbys(): Promise<number> {
  return (await s.stack.backend!.pool())[0]!.ready;
}

test("a standby's key is refused until its claim binds it, serves that session's turns, and is refused again after DELETE", async () => {
  await waitFor('a ready standby', async () => (await readyStandbys()) >= 1, { timeoutMs: 90_000 });
  const parked = cliKeys();
  expect(parked).toHaveLength(1);
  const { key, pid, raw } = parked[0]!;
  const env = readEnviron(pid)!;
  expect(env.ANTHROPIC_BASE_URL).toBe(egressUrl);
  for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) {
    expect(new URL(env[name]!).origin, name).toBe(egressUrl);
    expect(decodeURIComponent(new URL(env[name]!).password), name).toBe(key);
  }
  // Nothing of a tenant, not the real key, not the agent's own token.
  expect(raw).not.toContain(REAL_KEY);
  expect(raw).not.toContain('alice');
  expect(env.AGENT_AUTH_TOKEN).toBeUndefined();

  // Before any claim: refused on both doors, and nothing reaches the model.
  const revoked = await egressDecisions(s, 'model', 'deny', 'credential_revoked');
  const toModel = s.model.requests.length;
  const early = await modelCall(egressUrl, key);
  expect(early.status).toBe(401);
  expect(JSON.stringify(early.body)).not.toContain(key);
  expect(await connectStatus(egressUrl, key, 'allowed.test:443')).toBe(407);
  expect(await egressDecisions(s, 'model', 'deny', 'credential_revoked')).toBe(revoked + 1);
  expect(s.model.requests.length).toBe(toModel);

  // The claim binds it: the first turn runs on the parked CLI, through the egress gateway.
  const id = 'key-session';
  const turn = await sendMessage(s.url, id, 'hi', { token: s.tokens.alice });
  expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);
  const session = await s.stack.store.sessions.getSession(id);
  expect(session!.sandbox!.egressKeySha256).toBe(egressKeySha256(key));
  // The turn's model calls were metered to this session: the key named it at the egress gateway.
  await waitFor('the first turn metered to its session', async () => {
    const res = await fetch(`${s.url}/api/usage`, { headers: authHeaders(s.tokens.alice) });
    const body = (await res.json()) as { sessions: Record<string, { outputTokens: number }> };
    return (body.sessions[id]?.outputTokens ?? 0) > 0;
  });
  expect((await modelCall(egressUrl, key)).status).toBe(200);

  // The replacement standby drew a key of its own, which no claim has bound.
  const replacement = await waitFor('the replacement standby parked', async () => (await readyStandbys()) >= 1 && cliKeys().find((c) => c.key !== key));
  expect((await modelCall(egressUrl, replacement.key)).status).toBe(401);
  expect(await connectStatus(egressUrl, replacement.key, 'allowed.test:443')).toBe(407);

  // Released: refused again on both doors.
  const del = await fetch(`${s.url}/sessions/${id}`, { method: 'DELETE', headers: authHeaders(s.tokens.alice) });
  expect(del.status).toBe(200);
  const after = await modelCall(egressUrl, key);
  expect(after.status).toBe(401);
  expect(after.body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  expect(await connectStatus(egressUrl, key, 'allowed.test:443')).toBe(407);
}, 180_000);
