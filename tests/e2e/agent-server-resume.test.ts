// Durable sessions across sandboxes: process A runs turn 1 and its transcript frames are
// collected (as the gateway stores them); process B, a fresh sandbox with its own empty data dir,
// is bootstrapped with them and resumeSdkSessionId, and its turn-2 request to the model must
// carry turn 1. Both pre-start modes are covered, since a pre-started CLI loads the transcript
// at startup() time rather than at the turn. The tenant is the SessionStore projectKey: the CLI
// writes under it and the SDK's load() on B asks for it, so B resumes only if both agree.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import type { StoredTranscriptEntry, TranscriptBatch } from '@berth/protocol';
import { startOfflineModel, userPrompts } from '@berth/cli/offline-model';
import { bootstrap, mainRequests, resultText, startRig, stopRig, terminal, turn, type Rig } from '../fixtures/offline-model-agent.js';

const model = await startOfflineModel();
const rigs: Rig[] = [];
const dataDirs: string[] = [];
afterAll(async () => {
  for (const rig of rigs) await stopRig(rig, false);
  await model.close();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

async function newRig(env: Record<string, string>): Promise<Rig> {
  const rig = await startRig(env, model);
  rigs.push(rig);
  return rig;
}

for (const prestart of ['1', '0']) {
  test(`a fresh sandbox resumes from the handed-over transcript (BERTH_AGENT_PRESTART=${prestart})`, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'berth-resume-'));
    dataDirs.push(dataDir);
    const a = await newRig({ BERTH_AGENT_PRESTART: prestart, BERTH_AGENT_DATA_DIR: dataDir });
    expect((await bootstrap(a, { sessionId: `moving-${prestart}`, tenant: 'acme-corp' })).status).toBe(200);
    const first = await turn(a, `remember the word ${prestart === '1' ? 'walnut' : 'chestnut'}`, `moving-${prestart}`);
    const sdkSessionId = terminal(first)[0]?.json.sdkSessionId as string;
    expect(terminal(first).map((f) => f.event)).toEqual(['done']);
    const stored: StoredTranscriptEntry[] = first
      .filter((f) => f.event === 'transcript')
      .flatMap((f) => {
        const batch = f.json as unknown as TranscriptBatch;
        return batch.entries.map((entry) => ({ sdkSessionId: batch.sdkSessionId, subpath: batch.subpath, entry }));
      });
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.every((s) => s.sdkSessionId === sdkSessionId)).toBe(true);
    // The CLI kept its transcript under the tenant's projectKey, not under its cwd's name.
    expect(readdirSync(path.join(dataDir, 'config', 'projects'))).toEqual(['acme-corp']);
    expect(readdirSync(path.join(dataDir, 'config', 'projects', 'acme-corp'))).toContain(`${sdkSessionId}.jsonl`);
    await a.agent.kill();

    const b = await newRig({ BERTH_AGENT_PRESTART: prestart });
    expect((await bootstrap(b, { sessionId: `moving-${prestart}`, tenant: 'acme-corp', resumeSdkSessionId: sdkSessionId, transcript: stored })).status).toBe(200);
    const before = mainRequests(model).length;
    const second = await turn(b, 'what was the word?', `moving-${prestart}`);
    expect(terminal(second).map((f) => f.event)).toEqual(['done']);
    expect(terminal(second)[0]?.json.sdkSessionId).toBe(sdkSessionId);
    const request = mainRequests(model).slice(before).at(-1)?.body ?? {};
    const word = prestart === '1' ? 'walnut' : 'chestnut';
    expect(userPrompts(request)).toEqual([`remember the word ${word}`, 'what was the word?']);
    expect(resultText(second)).toContain(`earlier user turns: ["remember the word ${word}"]`);
    // B's own transcript frames continue the same SDK session, so the gateway appends to one record.
    expect(second.filter((f) => f.event === 'transcript').every((f) => f.json.sdkSessionId === sdkSessionId)).toBe(true);
  });
}

test('control: without the handed-over transcript the same resume fails with one error frame', async () => {
  const a = await newRig({});
  expect((await bootstrap(a, { sessionId: 'control' })).status).toBe(200);
  const first = await turn(a, 'remember the word acorn', 'control');
  const sdkSessionId = terminal(first)[0]?.json.sdkSessionId as string;
  const b = await newRig({});
  expect((await bootstrap(b, { sessionId: 'control', resumeSdkSessionId: sdkSessionId })).status).toBe(200);
  const second = await turn(b, 'what was the word?', 'control');
  expect(terminal(second).map((f) => f.event)).toEqual(['error']);
  expect(String(terminal(second)[0]?.json.message)).toContain('No conversation found');
});
