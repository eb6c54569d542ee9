// kind/up.sh and kind/check-egress.sh run for real (not --dry-run) against stub tools on PATH:
// up.sh must address only the kind cluster's context, keep the model key out of every argument
// list and put the hashes of the tokens it prints into the tenants Secret; check-egress.sh must
// pass on a cluster that enforces the policies and name every leak on one that does not.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseTenants } from '@berth/gateway/tenants';
import { describe, expect, test } from 'vitest';
import { repoRoot } from './render-chart.js';

describe('kind scripts against stub tools', () => {
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
