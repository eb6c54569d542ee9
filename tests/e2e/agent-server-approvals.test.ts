// Tool-call approval end to end, with a real Bash tool call through the real Agent SDK and CLI:
// the profile's policy `ask` for Bash becomes an `approval_request` frame, and the turn waits for
// POST /sessions/{id}/approvals/{requestId}: allow runs the command, deny does not, an edited
// input runs the edited command instead, no answer within approvalTimeoutS denies, and an
// interrupt while waiting denies and ends the turn. The files the commands write prove what ran.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startOfflineModel, type OfflineModel } from '@berth/cli/offline-model';
import { answerApproval, interruptTurn } from '@berth/orchestrator';
import type { AgentProfile, ApprovalRequestData } from '@berth/protocol';
import {
  TOKEN, bootstrap, health, messages, postJson, readFrames, resultText, startRig, startTurn, stopRig, terminal, type ParsedFrame, type Rig,
} from '../fixtures/offline-model-agent.js';

let model: OfflineModel;
beforeAll(async () => {
  model = await startOfflineModel();
});
afterAll(async () => {
  await model.close();
});

function useRig(profile: AgentProfile): () => Rig {
  let rig: Rig | undefined;
  beforeAll(async () => {
    rig = await startRig({ BERTH_AGENT_MAX_RETRIES: '1' }, model);
    expect((await bootstrap(rig, { profile })).status).toBe(200);
  });
  afterAll(async () => {
    await stopRig(rig, false);
  });
  return () => rig!;
}

// allowedTools names Bash on purpose: the policy's `ask` must win over the CLI's own allow list.
const asking: AgentProfile = { allowedTools: ['Bash'], permissionMode: 'default', permissions: { default: 'allow', rules: [{ tool: 'Bash', decision: 'ask' }] } };

/** Runs a turn and answers its first approval_request with `answer` (run on the request's frame). */
async function turnWithApproval(rig: Rig, turnNumber: number, prompt: string, answer: (request: ApprovalRequestData) => Promise<void>): Promise<ParsedFrame[]> {
  const res = await startTurn(rig, turnNumber, prompt);
  expect(res.status).toBe(200);
  const answered: Array<Promise<void>> = [];
  const frames = await readFrames(res, (frame) => {
    if (frame.event === 'approval_request' && answered.length === 0) answered.push(answer(frame.json as unknown as ApprovalRequestData));
  });
  await Promise.all(answered);
  return frames;
}

const answerWith = (rig: Rig, requestId: string, body: unknown) => postJson(rig, `/sessions/sess-1/approvals/${requestId}`, body);
const workdir = (frames: ParsedFrame[]): string => (messages(frames)[0]?.json as { cwd: string }).cwd;
const resolved = (frames: ParsedFrame[]) => frames.filter((f) => f.event === 'approval_resolved').map((f) => f.json);

describe('approvals answered by the caller', () => {
  const rig = useRig({ ...asking, approvalTimeoutS: 600 });

  test('allow: the command runs; the session shows the waiting turn meanwhile', async () => {
    let seenHealth: unknown;
    const frames = await turnWithApproval(rig(), 1, 'go [[bash: echo allowed > allowed.txt && cat allowed.txt]]', async (request) => {
      expect(request).toMatchObject({ requestId: expect.stringMatching(/^apr_/), tool: 'Bash', input: { command: 'echo allowed > allowed.txt && cat allowed.txt' } });
      // The turn cannot end while it waits for this answer, so this read is not racy.
      seenHealth = await health(rig());
      expect((await answerWith(rig(), request.requestId, { decision: 'allow' })).status).toBe(200);
      const again = await answerWith(rig(), request.requestId, { decision: 'deny' });
      expect(again.status).toBe(404);
      expect(((await again.json()) as { code: string }).code).toBe('approval_not_found');
    });
    expect(seenHealth).toMatchObject({ busy: true, turn: 1, lastTurn: null });
    expect(resolved(frames)).toEqual([{ requestId: expect.any(String), decision: 'allow', by: 'caller' }]);
    expect(frames.at(-1)).toMatchObject({ event: 'done', json: { stopReason: 'end_turn' } });
    expect(resultText(frames)).toBe('offline model: the command printed "allowed"');
    expect(readFileSync(path.join(workdir(frames), 'allowed.txt'), 'utf8')).toBe('allowed\n');
  });

  test('deny: the command does not run and the model is told why', async () => {
    const frames = await turnWithApproval(rig(), 2, 'go [[bash: echo denied > denied.txt]]', async (request) => {
      expect((await answerWith(rig(), request.requestId, { decision: 'deny', message: 'not on a Friday' })).status).toBe(200);
    });
    expect(resolved(frames)).toEqual([{ requestId: expect.any(String), decision: 'deny', by: 'caller' }]);
    expect(frames.at(-1)).toMatchObject({ event: 'done', json: { stopReason: 'end_turn' } });
    expect(resultText(frames)).toContain('not on a Friday');
    expect(existsSync(path.join(workdir(frames), 'denied.txt'))).toBe(false);
  });

  test('allow with updatedInput (through the gateway\'s agent client): the edited command is the one that ran', async () => {
    const endpoint = { url: rig().agent.url, authToken: TOKEN };
    const frames = await turnWithApproval(rig(), 3, 'go [[bash: echo original > original.txt]]', async (request) => {
      const updatedInput = { ...request.input, command: 'echo edited > edited.txt && cat edited.txt' };
      expect(await answerApproval(endpoint, 'sess-1', request.requestId, { decision: 'allow', updatedInput })).toEqual({ kind: 'resolved' });
      expect(await answerApproval(endpoint, 'sess-1', request.requestId, { decision: 'allow' })).toEqual({ kind: 'approval_not_found' });
    });
    expect(resultText(frames)).toBe('offline model: the command printed "edited"');
    expect(readFileSync(path.join(workdir(frames), 'edited.txt'), 'utf8')).toBe('edited\n');
    expect(existsSync(path.join(workdir(frames), 'original.txt'))).toBe(false);
  });

  test('interrupt while waiting: the request is denied by policy and the turn ends interrupted', async () => {
    const endpoint = { url: rig().agent.url, authToken: TOKEN };
    const frames = await turnWithApproval(rig(), 4, 'go [[bash: echo never > never.txt]]', async () => {
      expect(await interruptTurn(endpoint, 'sess-1')).toEqual({ interrupted: true });
    });
    expect(await interruptTurn(endpoint, 'sess-1')).toEqual({ interrupted: false });
    expect(resolved(frames)).toEqual([{ requestId: expect.any(String), decision: 'deny', by: 'policy' }]);
    expect(terminal(frames)).toHaveLength(1);
    expect(frames.at(-1)).toMatchObject({ event: 'done', json: { stopReason: 'interrupted' } });
    expect(existsSync(path.join(workdir(frames), 'never.txt'))).toBe(false);
  });

  test('bad answers: 400 invalid_body; unknown request 404 approval_not_found', async () => {
    const bad = await answerWith(rig(), 'apr_x', { decision: 'maybe' });
    expect(bad.status).toBe(400);
    const unknown = await answerWith(rig(), 'apr_unknown', { decision: 'allow' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe('approval_not_found');
  });
});

describe('approval timeout', () => {
  const rig = useRig({ ...asking, approvalTimeoutS: 1 });

  test('no answer within approvalTimeoutS is a deny; a late answer finds nothing', async () => {
    let requestId = '';
    const frames = await readFrames(await startTurn(rig(), 1, 'go [[bash: echo late > late.txt]]'), (frame) => {
      if (frame.event === 'approval_request') requestId = (frame.json as unknown as ApprovalRequestData).requestId;
    });
    expect(requestId).not.toBe('');
    expect(resolved(frames)).toEqual([{ requestId, decision: 'deny', by: 'timeout' }]);
    expect(frames.at(-1)).toMatchObject({ event: 'done', json: { stopReason: 'end_turn' } });
    expect(resultText(frames)).toContain('no answer within 1 s');
    expect(existsSync(path.join(workdir(frames), 'late.txt'))).toBe(false);
    expect((await answerWith(rig(), requestId, { decision: 'allow' })).status).toBe(404);
  });
});
