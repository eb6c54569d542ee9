// run-once mode (the ephemeral tier): `node agent-image/dist/main.js run-once` with PROMPT,
// ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY prints the result text and exits 0; a failed turn or
// missing input exits 1; a bad BERTH_AGENT_* value exits 2 (config error).
import { spawn } from 'node:child_process';
import { afterAll, expect, test } from 'vitest';
import { agentServerEntry } from '@berth/orchestrator/local';
import { startOfflineModel } from '@berth/cli/offline-model';

const model = await startOfflineModel();
afterAll(() => model.close());

function runOnce(env: Record<string, string>, args = ['run-once']): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [agentServerEntry(), ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('success: prints the result text, exits 0, with the given credential', async () => {
  const out = await runOnce({ PROMPT: 'one shot', ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'run-once-key' });
  expect(out.code).toBe(0);
  expect(out.stdout).toBe('offline model: you said "one shot" (turn 1; earlier user turns: [])\n');
  expect(model.requests.at(-1)?.headers['x-api-key']).toBe('run-once-key');
});

test('BERTH_AGENT_MODE=run-once works without the argument', async () => {
  const out = await runOnce({ BERTH_AGENT_MODE: 'run-once', PROMPT: 'by env', ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'k' }, []);
  expect(out.code).toBe(0);
  expect(out.stdout).toContain('you said "by env"');
});

test('a model that keeps failing: exits 1', async () => {
  model.script({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
  const out = await runOnce({ PROMPT: 'doomed', ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'k', BERTH_AGENT_MAX_RETRIES: '1' });
  expect(out.code).toBe(1);
  expect(model.pending()).toBe(0);
});

test('missing PROMPT exits 1; an invalid BERTH_AGENT_MAX_RETRIES exits 2', async () => {
  expect((await runOnce({ ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'k' })).code).toBe(1);
  const bad = await runOnce({ PROMPT: 'x', ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'k', BERTH_AGENT_MAX_RETRIES: 'many' });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('BERTH_AGENT_MAX_RETRIES');
});
