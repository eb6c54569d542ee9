// Tool-call approval through the whole stack (issue 13 item 6), with a real Bash tool call of the
// real Agent SDK against the offline model: the tenant profile's `ask` for Bash becomes an
// `approval_request` frame on the caller's stream, the session shows `awaiting_approval`, and the
// caller answers POST /sessions/{id}/approvals/{requestId} through the gateway: allow runs the
// command, deny does not, an edited input (`updatedInput`) runs the edited command instead, and no
// answer within the profile's approvalTimeoutS is a deny. The command's printed output, which the
// offline model quotes back, proves what ran. The agent-level cases are agent-server-approvals.test.ts.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ApprovalRequestData, SseFrame } from '@berth/protocol';
import { hashToken } from '@berth/gateway/tenants';
import { authHeaders, resultText, sendMessage, startTestStack, TEST_TOKENS, type TestStack, type Turn } from '../fixtures/stack.js';

const { alice, bob } = TEST_TOKENS;

// alice answers (a long timeout: the answer never races it); bob never does (1 s: the deny).
const tenantsYaml = (): string => {
  const profile = (approvalTimeoutS: number) =>
    `{ allowedTools: [Bash], permissionMode: default, maxTurns: 8, approvalTimeoutS: ${approvalTimeoutS}, permissions: { default: allow, rules: [{ tool: Bash, decision: ask }] } }`;
  return `tenants:
  alice:
    tokenHashes: ["${hashToken(alice)}"]
    agent: ${profile(600)}
  bob:
    tokenHashes: ["${hashToken(bob)}"]
    agent: ${profile(1)}
`;
};

let s: TestStack;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-approvals-'));
  await writeFile(path.join(dir, 'tenants.yaml'), tenantsYaml());
  s = await startTestStack({ dir, poolSize: 2 });
});
afterAll(async () => {
  await s?.stop();
  await rm(dir, { recursive: true, force: true });
});

const json = (frame: SseFrame): Record<string, unknown> => JSON.parse(frame.data) as Record<string, unknown>;
const resolvedFrames = (turn: Turn) => turn.frames.filter((f) => f.event === 'approval_resolved').map(json);
const answer = (id: string, requestId: string, body: unknown, token = alice) =>
  fetch(`${s.url}/sessions/${id}/approvals/${requestId}`, { method: 'POST', headers: { ...authHeaders(token), 'content-type': 'application/json' }, body: JSON.stringify(body) });
const status = async (id: string): Promise<string> => ((await (await fetch(`${s.url}/sessions/${id}`, { headers: authHeaders(alice) })).json()) as { status: string }).status;

/** Sends `prompt` on `id` and runs `onRequest` on the first approval_request frame (the turn waits for it). */
async function turnWithApproval(id: string, prompt: string, onRequest: (request: ApprovalRequestData) => Promise<void>, token = alice): Promise<Turn> {
  const handled: Array<Promise<void>> = [];
  const turn = await sendMessage(s.url, id, prompt, {
    token,
    onFrame: (frame) => {
      if (frame.event === 'approval_request' && handled.length === 0) handled.push(onRequest(json(frame) as unknown as ApprovalRequestData));
    },
  });
  await Promise.all(handled);
  expect(handled).toHaveLength(1);
  return turn;
}

describe('tool approval through the gateway, with a real Bash call', () => {
  test('allow: the command runs; meanwhile the session is awaiting_approval and only its owner may answer', async () => {
    const id = 'approve-allow';
    const turn = await turnWithApproval(id, 'go [[bash: echo allowed-by-caller]]', async (request) => {
      expect(request).toMatchObject({ requestId: expect.any(String), tool: 'Bash', input: { command: 'echo allowed-by-caller' } });
      // The turn cannot end while it waits for this answer, so these reads are not racy.
      expect(await status(id)).toBe('awaiting_approval');
      expect((await answer(id, request.requestId, { decision: 'allow' }, bob)).status).toBe(403);
      expect((await answer(id, request.requestId, { decision: 'allow' })).status).toBe(200);
      const again = await answer(id, request.requestId, { decision: 'deny' });
      expect(again.status).toBe(404);
      expect(await again.json()).toMatchObject({ code: 'approval_not_found' });
    });
    expect(resolvedFrames(turn)).toEqual([expect.objectContaining({ decision: 'allow', by: 'caller' })]);
    expect(turn.frames.at(-1)).toMatchObject({ event: 'done' });
    expect(json(turn.frames.at(-1)!)).toMatchObject({ stopReason: 'end_turn' });
    expect(resultText(turn)).toBe('offline model: the command printed "allowed-by-caller"');
    expect(await status(id)).toBe('idle');
  });

  test('deny: the command does not run and the model is told the caller\'s reason', async () => {
    const id = 'approve-deny';
    const turn = await turnWithApproval(id, 'go [[bash: echo must-not-run]]', async (request) => {
      expect((await answer(id, request.requestId, { decision: 'deny', message: 'not on a Friday' })).status).toBe(200);
    });
    expect(resolvedFrames(turn)).toEqual([expect.objectContaining({ decision: 'deny', by: 'caller' })]);
    expect(json(turn.frames.at(-1)!)).toMatchObject({ stopReason: 'end_turn' });
    expect(resultText(turn)).toContain('not on a Friday');
    // The offline model quotes the tool result: the caller's reason, not the command's output.
    expect(resultText(turn)).not.toContain('"must-not-run"');
  });

  test('allow with updatedInput: the edited command is the one that runs', async () => {
    const id = 'approve-edit';
    const turn = await turnWithApproval(id, 'go [[bash: echo original-command]]', async (request) => {
      const updatedInput = { ...request.input, command: 'echo edited-command' };
      expect((await answer(id, request.requestId, { decision: 'allow', updatedInput })).status).toBe(200);
    });
    expect(resolvedFrames(turn)).toEqual([expect.objectContaining({ decision: 'allow', by: 'caller' })]);
    expect(resultText(turn)).toBe('offline model: the command printed "edited-command"');
  });

  test('no answer within the profile\'s approvalTimeoutS is a deny; a late answer finds nothing', async () => {
    const id = 'approve-timeout';
    let requestId = '';
    const turn = await sendMessage(s.url, id, 'go [[bash: echo too-late]]', {
      token: bob,
      onFrame: (frame) => {
        if (frame.event === 'approval_request') requestId = (json(frame) as unknown as ApprovalRequestData).requestId;
      },
    });
    expect(requestId).not.toBe('');
    expect(resolvedFrames(turn)).toEqual([expect.objectContaining({ requestId, decision: 'deny', by: 'timeout' })]);
    expect(json(turn.frames.at(-1)!)).toMatchObject({ stopReason: 'end_turn' });
    expect(resultText(turn)).toContain('no answer within 1 s');
    expect((await answer(id, requestId, { decision: 'allow' }, bob)).status).toBe(404);
  });
});
