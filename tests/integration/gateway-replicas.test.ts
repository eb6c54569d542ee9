// Two gateway replicas over one Redis (issue: Redis route store, several gateway replicas): two
// whole stacks in this process share one redis-server, one offline model, one tenants file and
// one set of credential keys, as two Deployments' pods would. Pins: a session started on one
// replica continues on the other with its history; a burst of first messages on one new id over
// both replicas provisions exactly one sandbox and keeps one conversation line.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { OfflineModel } from '@berth/cli/offline-model';
import { startReplicaPair, type ReplicaPair } from '../fixtures/replicas.js';
import { authHeaders, resultText, sendMessage, terminalFrames, TEST_TOKENS, type TestStack, type Turn } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

let replicas: ReplicaPair;
let model: OfflineModel;
let a: TestStack;
let b: TestStack;

beforeAll(async () => {
  replicas = await startReplicaPair({ poolSize: 1 });
  ({ a, b, model } = replicas);
  await waitFor('a ready standby seen by both replicas', async () => (await pool(a)).ready === 1 && (await pool(b)).ready === 1);
});

afterAll(async () => replicas?.stop());

interface Pool { ready: number; claimed: number; warmClaims: number; coldStarts: number }

async function pool(s: TestStack): Promise<Pool> {
  const res = await fetch(`${s.url}/api/pool`, { headers: authHeaders(TEST_TOKENS.alice) });
  return ((await res.json()) as { pools: Pool[] }).pools[0]!;
}

/** Prompts of the user turns in one model request body, in order. */
function userPrompts(body: unknown): string[] {
  const messages = (body as { messages?: Array<{ role: string; content: unknown }> }).messages ?? [];
  const texts: string[] = [];
  for (const m of messages) {
    if (m.role !== 'user') continue;
    const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : (m.content as Array<{ type: string; text?: string }>);
    for (const block of blocks) if (block.type === 'text' && block.text?.startsWith('burst-')) texts.push(block.text);
  }
  return texts;
}

describe('two replicas over one Redis', () => {
  test('a session started through one replica continues through the other, with turn one in the model request', async () => {
    const first = await sendMessage(a.url, 'hop-1', 'remember the word osprey', { token: TEST_TOKENS.alice });
    expect(first.status).toBe(200);
    expect(terminalFrames(first).map((f) => f.event)).toEqual(['done']);

    const before = model.requests.length;
    const second = await sendMessage(b.url, 'hop-1', 'what was the word?', { token: TEST_TOKENS.alice });
    expect(second.status).toBe(200);
    expect(terminalFrames(second).map((f) => f.event)).toEqual(['done']);
    expect(second.frames.every((f) => f.id?.startsWith('2:'))).toBe(true);
    expect(resultText(second)).toContain('remember the word osprey');
    const request = model.requests.slice(before).find((r) => r.kind === 'main')!;
    expect(JSON.stringify(request.body)).toContain('remember the word osprey');

    // Both replicas see the same record: two turns, one sandbox.
    for (const s of [a, b]) {
      const view = (await (await fetch(`${s.url}/sessions/hop-1`, { headers: authHeaders(TEST_TOKENS.alice) })).json()) as { turns: number; sandbox: unknown };
      expect(view.turns).toBe(2);
      expect(view.sandbox).not.toBeNull();
    }
  });

  test('50 parallel first messages on one new id over both replicas: one sandbox, one owner, one conversation line', async () => {
    const id = 'burst-1';
    const [pa, pb] = await Promise.all([pool(a), pool(b)]);
    const claimsBefore = pa.warmClaims + pa.coldStarts + pb.warmClaims + pb.coldStarts;
    const claimedBefore = pa.claimed + pb.claimed;
    const requestsBefore = model.requests.length;

    const turns: Turn[] = await Promise.all(
      Array.from({ length: 50 }, (_, i) => sendMessage(i % 2 === 0 ? a.url : b.url, id, `burst-${i}`, { token: TEST_TOKENS.alice })),
    );

    const streams = turns.filter((t) => t.status === 200);
    const refused = turns.filter((t) => t.status !== 200);
    console.log(JSON.stringify({ metric: 'burst_answers', streams: streams.length, refused: refused.length }));
    // Every answer is either a whole stream or a 409 turn_in_progress; nothing else.
    for (const t of refused) {
      expect(t.status).toBe(409);
      expect(t.problem?.code).toBe('turn_in_progress');
    }
    expect(streams.length).toBeGreaterThanOrEqual(1);
    for (const t of streams) {
      expect(terminalFrames(t).map((f) => f.event)).toEqual(['done']);
      expect(t.frames.at(-1)!.event).toBe('done');
    }
    // Turn numbers (frame id prefixes) are distinct: no two streams claimed the same turn.
    const turnNumbers = streams.map((t) => t.frames[0]!.id!.split(':')[0]);
    expect(new Set(turnNumbers).size).toBe(streams.length);

    // Exactly one claim across both replicas, and one sandbox bound.
    const [qa, qb] = await Promise.all([pool(a), pool(b)]);
    expect(qa.warmClaims + qa.coldStarts + qb.warmClaims + qb.coldStarts).toBe(claimsBefore + 1);
    expect(qa.claimed + qb.claimed).toBe(claimedBefore + 1);
    const record = (await a.stack.store.sessions.getSession(id))!;
    expect(record.tenant).toBe('alice');
    expect(record.sandbox).not.toBeNull();
    expect(record.turns).toBe(streams.length);

    // One conversation line: the model's k-th main request for this session carries exactly the
    // k-1 earlier accepted prompts before its own. Two sandboxes would show two lines (a
    // request whose history misses a prompt another stream got an answer for).
    const mains = model.requests.slice(requestsBefore).filter((r) => r.kind === 'main' && userPrompts(r.body).length > 0);
    expect(mains.length).toBe(streams.length);
    const lines = mains.map((r) => userPrompts(r.body));
    lines.sort((x, y) => x.length - y.length);
    lines.forEach((line, k) => {
      expect(line.length).toBe(k + 1);
      if (k > 0) expect(line.slice(0, k)).toEqual(lines[k - 1]);
    });
    const answered = streams.map((t) => resultText(t).match(/you said "(burst-\d+)"/)?.[1]).sort();
    expect(answered).toEqual(lines.at(-1)!.slice().sort());
  });
});
