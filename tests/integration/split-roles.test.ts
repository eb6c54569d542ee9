// The two composition roots as a cluster runs them: `berth gateway --egress-only` and
// `berth gateway --ingress-only` as separate processes sharing Redis and the credential keys.
// A turn goes caller → ingress → sandbox → egress process → model, and the real key reaches the
// model only through the egress process. Role settings that only make sense together are refused
// before anything starts, with exit code 2 and every problem named.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startOfflineModel, type OfflineModel } from '@berth/cli/offline-model';
import { roleProblems } from '@berth/gateway/testing';
import { loadConfig } from '@berth/gateway';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';
import { REAL_KEY, TEST_TOKENS, resultText, sendMessage, terminalFrames, writeTenantsFile } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

const CLI = path.resolve(import.meta.dirname, '../../cli/dist/main.js');
const KEYS = `k1:${Buffer.alloc(32, 7).toString('base64')}`;

interface RunningRole {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function runGateway(role: '--ingress-only' | '--egress-only', env: Record<string, string>): RunningRole {
  const child = spawn(process.execPath, [CLI, 'gateway', role], {
    env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** The URL a role logged in its "berth gateway started" line. */
async function startedUrl(role: RunningRole, field: 'ingress' | 'egress'): Promise<string> {
  await waitFor(`the ${field} role to log its start`, () => role.output().includes('berth gateway started') || role.child.exitCode !== null, { timeoutMs: 90_000 })
    .catch((error: unknown) => { throw new Error(`${String(error)}; it printed:\n${role.output()}`); });
  const line = role.output().split('\n').find((l) => l.includes('berth gateway started'));
  expect(line, role.output()).toBeDefined();
  return (JSON.parse(line!) as Record<string, string>)[field]!;
}

describe('role settings are checked before anything starts', () => {
  const base = loadConfig({});
  test('split roles need the shared keys; a lone ingress needs the egress gateway\'s public URL', () => {
    expect(roleProblems(base, { ingress: true, egress: true }, {})).toEqual([]);
    const ingress = roleProblems(base, { ingress: true, egress: false }, {});
    expect(ingress.join('\n')).toMatch(/BERTH_CREDENTIAL_KEYS/);
    expect(ingress.join('\n')).toMatch(/BERTH_EGRESS_PUBLIC_URL/);
    expect(roleProblems(base, { ingress: false, egress: true }, {}).join('\n')).toMatch(/BERTH_CREDENTIAL_KEYS/);
    const withKeys = loadConfig({ BERTH_CREDENTIAL_KEYS: KEYS, BERTH_EGRESS_PUBLIC_URL: 'http://egress.test:8081' });
    expect(roleProblems(withKeys, { ingress: true, egress: false }, {})).toEqual([]);
    expect(roleProblems(loadConfig({ BERTH_BACKEND: 'modal' }), { ingress: true, egress: true }, { BERTH_MODAL_TUNNEL: 'sideways' }).join('\n')).toMatch(/BERTH_MODAL_TUNNEL/);
  });

  test('`berth gateway --ingress-only` with neither exits 2 and names both', async () => {
    const role = runGateway('--ingress-only', { BERTH_PORT: '0', BERTH_LOG_LEVEL: 'silent' });
    expect(await role.exited).toBe(2);
    expect(role.output()).toMatch(/BERTH_CREDENTIAL_KEYS/);
    expect(role.output()).toMatch(/BERTH_EGRESS_PUBLIC_URL/);
  });
});

describe('ingress and egress as separate processes', () => {
  let redis: RedisServer;
  let model: OfflineModel;
  let dir: string;
  const roles: RunningRole[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    model = await startOfflineModel();
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-split-'));
  });
  afterAll(async () => {
    for (const role of roles) if (role.child.exitCode === null && role.child.signalCode === null) role.child.kill('SIGTERM');
    await Promise.all(roles.map((role) => role.exited));
    await model?.close();
    await redis?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a turn crosses both roots; only the egress process holds the real key', async () => {
    const tenantsFile = await writeTenantsFile(dir);
    const shared = { BERTH_REDIS_URL: redis.url, BERTH_CREDENTIAL_KEYS: KEYS, BERTH_TENANTS_FILE: tenantsFile, BERTH_LOG_LEVEL: 'info' };
    const egress = runGateway('--egress-only', { ...shared, BERTH_EGRESS_PORT: '0', BERTH_MODEL_UPSTREAM_URL: model.url, ANTHROPIC_API_KEY: REAL_KEY });
    roles.push(egress);
    const egressUrl = await startedUrl(egress, 'egress');
    const ingress = runGateway('--ingress-only', {
      ...shared,
      BERTH_PORT: '0',
      BERTH_POOL_SIZE: '1',
      BERTH_EGRESS_PUBLIC_URL: egressUrl,
      // The offline model's echo needs no isolation; the local tier's jail is tested on its own.
      BERTH_LOCAL_ISOLATION: 'off',
    });
    roles.push(ingress);
    const ingressUrl = await startedUrl(ingress, 'ingress');

    const turn = await sendMessage(ingressUrl, 'split-1', 'hello across two roots', { token: TEST_TOKENS.alice });
    expect(terminalFrames(turn).map((f) => f.event), JSON.stringify(turn.problem ?? turn.frames.slice(-2))).toEqual(['done']);
    expect(resultText(turn)).toContain('hello across two roots');
    // The model saw the real key (swapped in by the egress process), never a session credential.
    const main = model.requests.filter((r) => r.kind === 'main');
    expect(main.length).toBeGreaterThan(0);
    for (const request of main) expect(request.headers['x-api-key']).toBe(REAL_KEY);
  }, 180_000);
});
