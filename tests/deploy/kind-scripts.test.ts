// kind/*.sh cannot run here (no Docker, no kind), so they are held to what can be checked:
// shellcheck-clean POSIX sh, and a --dry-run that prints the numbered plan in order while
// invoking nothing: every tool they would call is a stub on PATH that records its use.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseTenants } from '@berth/gateway/tenants';
import { parse } from 'yaml';
import { renderChart, repoRoot } from './render-chart.js';

const run = promisify(execFile);
const SCRIPTS = ['up.sh', 'down.sh', 'check-egress.sh'];
const HELPERS = ['lib.sh', 'demo-tenants.sh'];
const TOOLS = ['docker', 'kind', 'kubectl', 'helm', 'curl', 'openssl'];

let tmp: string;
let invocations: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-kind-'));
  invocations = path.join(tmp, 'invocations.log');
  const stubs = path.join(tmp, 'bin');
  mkdirSync(stubs);
  for (const tool of TOOLS) {
    const file = path.join(stubs, tool);
    writeFileSync(file, `#!/bin/sh\necho "${tool} $*" >> '${invocations}'\nexit 97\n`);
    chmodSync(file, 0o755);
  }
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function dryRun(script: string, args: string[] = ['--dry-run']) {
  const stateDir = path.join(tmp, `state-${script}`);
  const { stdout } = await run('sh', [path.join('kind', script), ...args], {
    cwd: repoRoot,
    env: { PATH: `${path.join(tmp, 'bin')}:/usr/bin:/bin`, HOME: tmp, BERTH_STATE_DIR: stateDir, ANTHROPIC_API_KEY: 'sk-test-not-real' },
  });
  return { stdout, stateDir };
}

/** The plan's numbered step titles, asserting they count 1, 2, 3, ... */
function planSteps(stdout: string): string[] {
  const steps = [...stdout.matchAll(/^(\d+)\. (.+)$/gm)];
  steps.forEach((m, i) => expect(Number(m[1])).toBe(i + 1));
  return steps.map((m) => m[2]!);
}

function expectInOrder(steps: string[], patterns: RegExp[]) {
  let at = -1;
  for (const pattern of patterns) {
    const found = steps.findIndex((s, i) => i > at && pattern.test(s));
    expect(found, `no step matching ${pattern} after step ${at + 1}:\n${steps.join('\n')}`).toBeGreaterThan(at);
    at = found;
  }
}

describe('kind scripts', () => {
  test('shellcheck passes on kind/*.sh (POSIX sh, sourced lib followed)', async () => {
    const files = [...SCRIPTS, ...HELPERS].map((f) => path.join('kind', f));
    const findings = await run('shellcheck', ['--external-sources', '--shell=sh', ...files], { cwd: repoRoot }).then(
      () => '',
      (error: NodeJS.ErrnoException & { stdout?: string }) => {
        // Missing shellcheck is a setup error (scripts/test.sh installs it), never a pass.
        if (error.code === 'ENOENT') throw new Error('shellcheck is not installed: apt-get install -y shellcheck');
        return error.stdout || String(error);
      },
    );
    expect(findings).toBe('');
  });

  test('the scripts parse as POSIX sh (dash) and are executable', async () => {
    for (const script of SCRIPTS) {
      await run('dash', ['-n', path.join('kind', script)], { cwd: repoRoot });
      expect(readFileSync(path.join(repoRoot, 'kind', script), 'utf8').startsWith('#!/bin/sh\n')).toBe(true);
    }
  });

  test('up.sh --dry-run plans build, cluster, Calico, load, secrets, install, wait, tokens: in that order', async () => {
    const { stdout, stateDir } = await dryRun('up.sh');
    expectInOrder(planSteps(stdout), [
      /prerequisites/i,
      /build the gateway image/i,
      /build the agent image/i,
      /create the kind cluster/i,
      /install calico v\d+\.\d+\.\d+/i,
      /wait for calico/i,
      /load the images/i,
      /tokens/i,
      /secrets/i,
      /install the helm chart/i,
      /ready/i,
      /print the tokens and a first curl/i,
    ]);
    expect(stdout).toContain('docker build -f gateway/Dockerfile');
    expect(stdout).toContain('docker build -f agent-image/Dockerfile');
    expect(existsSync(stateDir), 'dry run wrote the tokens file').toBe(false);
  });

  test('down.sh --dry-run plans the cluster deletion and the token cleanup', async () => {
    const { stdout, stateDir } = await dryRun('down.sh');
    expectInOrder(planSteps(stdout), [/prerequisites/i, /delete the kind cluster/i, /remove the generated tokens/i]);
    expect(stdout).toContain(stateDir);
  });

  test('check-egress.sh --dry-run plans the whole probe matrix, then cleans up', async () => {
    const { stdout } = await dryRun('check-egress.sh');
    expectInOrder(planSteps(stdout), [
      /prerequisites/i,
      /start the probe pods/i,
      /agent -> egress gateway: allowed/,
      /agent -> cluster DNS: allowed/,
      /agent -> internet by address: refused/,
      /agent -> internet by name: refused/,
      /agent -> another agent: refused/,
      /agent -> Redis: refused/,
      /agent -> Kubernetes API: refused/,
      /gateway -> agent: allowed/,
      /egress gateway -> internet: allowed/,
      /remove the probe pods/i,
      /summarise/i,
    ]);
  });

  test('a dry run invokes none of docker, kind, kubectl, helm, curl', async () => {
    rmSync(invocations, { force: true });
    for (const script of SCRIPTS) await dryRun(script);
    expect(existsSync(invocations) ? readFileSync(invocations, 'utf8') : '').toBe('');
  });

  test('--help explains and exits 0; an unknown argument fails', async () => {
    for (const script of SCRIPTS) {
      const { stdout } = await dryRun(script, ['--help']);
      expect(stdout).toMatch(/^Usage: kind\//);
      await expect(dryRun(script, ['--bogus'])).rejects.toMatchObject({ code: 1 });
    }
  });

  test('the demo tenants up.sh installs parse with the gateway parser and pass the chart schema', async () => {
    const [alice, bob] = ['a'.repeat(64), 'b'.repeat(64)];
    const { stdout } = await run('sh', ['kind/demo-tenants.sh', alice, bob], { cwd: repoRoot });
    const directory = parseTenants(stdout);
    expect([...directory.tenants.keys()].sort()).toEqual(['alice', 'bob']);
    expect(directory.tenants.get('alice')!.tokenHashes[0]!.toString('hex')).toBe(alice);
    // The same file as chart values, with kind's profiles: schema and cross-field checks pass.
    const objects = await renderChart({ files: [path.join(repoRoot, 'kind', 'values.yaml')], values: [{ tenants: { existingSecret: '', config: parse(stdout) as object } }] });
    expect(objects.some((o) => o.kind === 'Secret' && o.metadata.name === 'berth-tenants')).toBe(true);
  });
});
