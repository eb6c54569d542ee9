// How LocalProcessBackend is wired into a gateway: createBackend() picks it without loading the
// Kubernetes or Modal clients, its metrics land on the registry passed in (never prom-client's
// global one), and a broken agent environment turns into counted, typed failures.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createBackend } from '@berth/orchestrator';
import { LocalProcessBackend } from '@berth/orchestrator/local';
import { createBackendMetrics } from '@berth/orchestrator';
import type { LogFields, Logger } from '@berth/orchestrator';
import { Registry, register as globalRegistry } from 'prom-client';
import { afterEach, describe, expect, test } from 'vitest';
import { poolStatus } from '../contracts/sandbox-backend-contract.js';
import { waitFor } from '../fixtures/wait-for.js';

const agentEnv = { BERTH_AGENT_PRESTART: '0' };
const opened: LocalProcessBackend[] = [];
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((backend) => backend.stop()));
});

/** One sample from the registry's text exposition, by exact name and a subset of its labels. */
async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  for (const line of (await registry.metrics()).split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, want]) => have[key] === want)) return Number(match[3]);
  }
  return undefined;
}

describe('LocalProcessBackend wiring', () => {
  test('createBackend({kind: "local"}) builds a LocalProcessBackend whose metrics land on the given registry only', async () => {
    const registry = new Registry();
    const backend = await createBackend({
      kind: 'local',
      options: { profiles: [{ name: 'p', poolSize: 1 }, { name: 'z', poolSize: 0 }], agentEnv, metrics: createBackendMetrics(registry, 'local') },
    });
    expect(backend).toBeInstanceOf(LocalProcessBackend);
    opened.push(backend as LocalProcessBackend);
    await backend.start();
    await waitFor('one ready standby', async () => (await poolStatus(backend, 'p')).ready === 1);
    expect(await metricValue(registry, 'berth_orchestrator_standby_ready', { backend: 'local', profile: 'p' })).toBe(1);

    expect((await backend.claim('w', 'p')).outcome).toBe('warm');
    expect((await backend.claim('c', 'z')).outcome).toBe('cold');
    expect(await metricValue(registry, 'berth_orchestrator_claims_total', { backend: 'local', outcome: 'warm' })).toBe(1);
    expect(await metricValue(registry, 'berth_orchestrator_claims_total', { backend: 'local', outcome: 'cold' })).toBe(1);
    expect(await metricValue(registry, 'berth_orchestrator_cold_starts_total', { backend: 'local', profile: 'z' })).toBe(1);
    expect(await metricValue(registry, 'berth_orchestrator_claim_duration_seconds_count', { backend: 'local', outcome: 'warm' })).toBe(1);
    expect(globalRegistry.getSingleMetric('berth_orchestrator_claims_total')).toBeUndefined();

    // A second backend on the same registry reuses the metrics instead of throwing on re-registration.
    expect(() => createBackendMetrics(registry, 'local')).not.toThrow();
  });

  test('an agent that cannot start: standby starts back off, and a claim fails typed and counted', async () => {
    const registry = new Registry();
    const lines: { message: string; fields: LogFields }[] = [];
    const logger: Logger = { debug() {}, info() {}, error() {}, warn: (fields, message) => void lines.push({ fields, message }) };
    // The agent server exits 2 on an invalid variable: every start of this backend fails.
    const backend = new LocalProcessBackend({
      profiles: [{ name: 'p', poolSize: 1 }],
      agentEnv: { BERTH_AGENT_PRESTART: 'not-a-flag' },
      metrics: createBackendMetrics(registry, 'local'),
      logger,
    });
    opened.push(backend);
    await backend.start();
    await waitFor('a failed standby start to be logged', async () => lines.some((l) => l.message === 'standby start failed; backing off'));
    expect(await poolStatus(backend, 'p')).toMatchObject({ ready: 0 });

    const error = await backend.claim('s', 'p').then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ name: 'SandboxError', code: 'start_failed' });
    expect(await metricValue(registry, 'berth_orchestrator_claims_total', { backend: 'local', outcome: 'failed' })).toBe(1);
    expect(await metricValue(registry, 'berth_orchestrator_cold_starts_total', { backend: 'local', profile: 'p' })).toBe(1);
    expect((await poolStatus(backend, 'p')).claimed).toBe(0);
  });

  test('a local run of createBackend never loads the Kubernetes or Modal client', async () => {
    // A resolve hook in a fresh Node process records every module URL the import graph touches.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-lazy-'));
    const logPath = path.join(dir, 'resolved.txt');
    const hook = [
      "import { appendFileSync } from 'node:fs';",
      'let logPath;',
      'export async function initialize(data) { logPath = data.logPath; }',
      'export async function resolve(specifier, context, next) {',
      '  const result = await next(specifier, context);',
      "  appendFileSync(logPath, result.url + '\\n');",
      '  return result;',
      '}',
    ].join('\n');
    const main = [
      "import { register } from 'node:module';",
      `register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}), { data: { logPath: ${JSON.stringify(logPath)} } });`,
      "const { createBackend } = await import('@berth/orchestrator');",
      "const backend = await createBackend({ kind: 'local', options: { profiles: [] } });",
      'console.log(backend.kind);',
    ].join('\n');
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', main], { cwd: import.meta.dirname, timeout: 30_000 });
      expect(stdout.trim()).toBe('local');
      const resolved = readFileSync(logPath, 'utf8');
      expect(resolved).toContain('local-process-backend.js');
      expect(resolved).not.toMatch(/@kubernetes|node_modules\/modal\/|kubernetes-backend|modal-backend/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
