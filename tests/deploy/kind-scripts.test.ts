// kind/*.sh cannot run here (no Docker, no kind), so they are held to what can be checked:
// shellcheck-clean POSIX sh, and a --dry-run that prints the numbered plan in order while
// invoking nothing: every tool they would call is a stub on PATH that records its use.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseTenants } from '@berth/gateway/tenants/tenants-file';
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

  test('up.sh, run for real against stub tools: every call targets the kind context, the model key never rides in argv, the tenants Secret holds the printed tokens', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-up-'));
    try {
      const bin = path.join(dir, 'bin');
      mkdirSync(bin);
      const log = path.join(dir, 'calls.log');
      // Each stub logs "<tool> <pid> <args>" and keeps whatever it was piped, under its pid.
      for (const tool of ['docker', 'kind', 'kubectl', 'helm', 'curl']) {
        writeFileSync(path.join(bin, tool), `#!/bin/sh\nprintf '%s %s %s\\n' "${tool}" "$$" "$*" >> '${log}'\ncat > '${dir}/stdin-'"$$"\nexit 0\n`);
        chmodSync(path.join(bin, tool), 0o755);
      }
      const stateDir = path.join(dir, 'state');
      const key = 'sk-ant-test-key-that-must-not-leak';
      const stdout = await new Promise<string>((resolve, reject) => {
        const child = spawn('sh', ['kind/up.sh'], {
          cwd: repoRoot,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, BERTH_STATE_DIR: stateDir, ANTHROPIC_API_KEY: key },
        });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`up.sh exited ${code}:\n${out}`))));
      });
      const calls = readFileSync(log, 'utf8').trim().split('\n').map((line) => {
        const [tool, pid, ...args] = line.split(' ');
        return { tool: tool!, pid: pid!, args: args.join(' ') };
      });
      // Safety: nothing outside the kind cluster's context.
      for (const c of calls.filter((c) => c.tool === 'kubectl')) expect(c.args).toMatch(/^--context kind-berth /);
      for (const c of calls.filter((c) => c.tool === 'helm')) expect(c.args).toContain('--kube-context kind-berth');
      // The model key reaches kubectl through stdin, never an argument list.
      expect(calls.some((c) => c.args.includes(key))).toBe(false);
      const keyCall = calls.find((c) => c.args.includes('secret generic berth-model-api-key'))!;
      expect(readFileSync(path.join(dir, `stdin-${keyCall.pid}`), 'utf8')).toBe(key);
      // Order of the real work.
      const order = [/^docker build -f gateway\/Dockerfile/, /^docker build -f agent-image\/Dockerfile/, /^kind create cluster --name berth --config kind\/kind-config.yaml/,
        /^kubectl .*apply --server-side .*calico\/v3\.29\.3\/manifests\/calico.yaml/, /^kind load docker-image --name berth berth\/gateway:dev berth\/agent:dev/,
        /^kubectl .*secret generic berth-tenants/, /^helm upgrade --install berth deploy\/helm\/berth .*--values kind\/values.yaml/, /^curl .*\/readyz/];
      const lines = calls.map((c) => `${c.tool} ${c.args}`);
      let at = -1;
      for (const pattern of order) {
        const found = lines.findIndex((l, i) => i > at && pattern.test(l));
        expect(found, `${pattern} after call ${at}`).toBeGreaterThan(at);
        at = found;
      }
      expect(lines.find((l) => l.startsWith('helm '))).toContain('--set modelApiKey.existingSecret=berth-model-api-key');
      // Tokens: private file, printed once, and their hashes are what the tenants Secret holds.
      const tokensFile = path.join(stateDir, 'tokens.env');
      expect(statSync(tokensFile).mode & 0o777).toBe(0o600);
      const tokens = Object.fromEntries(readFileSync(tokensFile, 'utf8').trim().split('\n').map((l) => l.split('=') as [string, string]));
      expect(stdout).toContain(`alice: ${tokens.ALICE_TOKEN}`);
      expect(stdout).toContain(`bob:   ${tokens.BOB_TOKEN}`);
      const tenantsCall = calls.find((c) => c.args.includes('secret generic berth-tenants'))!;
      const directory = parseTenants(readFileSync(path.join(dir, `stdin-${tenantsCall.pid}`), 'utf8'));
      const sha = (t: string) => createHash('sha256').update(t).digest('hex');
      expect(directory.tenants.get('alice')!.tokenHashes[0]!.toString('hex')).toBe(sha(tokens.ALICE_TOKEN!));
      expect(directory.tenants.get('bob')!.tokenHashes[0]!.toString('hex')).toBe(sha(tokens.BOB_TOKEN!));
      expect(readdirSync(dir).filter((f) => f.startsWith('stdin-')).length).toBe(calls.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // check-egress.sh against a stub kubectl that plays a cluster: "enforcing" answers connects the
  // way the NetworkPolicies intend; "open" (a CNI that ignores policies) lets everything connect.
  async function checkEgressAgainst(cluster: 'enforcing' | 'open') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-check-'));
    try {
      mkdirSync(path.join(dir, 'bin'));
      const exec = cluster === 'open'
        ? 'exit 0'
        : `case "$*" in
             *deploy/berth-gateway*|*deploy/berth-egress*) echo connected; exit 0 ;;
             *berth-egress.berth.svc.cluster.local\\ 8081*) echo connected; exit 0 ;;
             *lookup*) echo 10.96.0.10; exit 0 ;;
             *) echo timed out; exit 1 ;;
           esac`;
      writeFileSync(path.join(dir, 'bin', 'kubectl'), `#!/bin/sh
case "$*" in
  *" exec "*) ${exec} ;;
  *"get networkpolicy"*) echo networkpolicy/berth-sandboxes ;;
  *jsonpath*) printf 192.168.7.7 ;;
  *" apply "*) cat >/dev/null ;;
esac
exit 0
`);
      chmodSync(path.join(dir, 'bin', 'kubectl'), 0o755);
      return await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn('sh', ['kind/check-egress.sh'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: `${path.join(dir, 'bin')}:/usr/bin:/bin`, HOME: dir } });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        child.once('exit', (code) => resolve({ code, out }));
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test('check-egress.sh passes on a cluster that enforces the policies', async () => {
    const { code, out } = await checkEgressAgainst('enforcing');
    expect(out.match(/^PASS /gm)?.length, out).toBe(10); // 8 agent probes + 2 controls
    expect(out).not.toMatch(/^FAIL /m);
    expect(code, out).toBe(0);
  });

  test('check-egress.sh fails, naming each leak, on a CNI that ignores NetworkPolicies', async () => {
    const { code, out } = await checkEgressAgainst('open');
    expect(code).toBe(1);
    const failed = out.split('\n').filter((l) => l.startsWith('FAIL '));
    expect(failed.map((l) => /FAIL\s+allowed\s+(agent -> [^(]+)\(/.exec(l)?.[1]?.trim())).toEqual([
      'agent -> internet', 'agent -> internet', 'agent -> another agent', 'agent -> Redis', 'agent -> Kubernetes API', 'agent -> ingress gateway',
    ]);
    expect(out).toMatch(/6 probe\(s\) disagreed/);
  });
});
