// The local tier's isolation, attacked from inside a real sandbox (issue 14). Each probe runs as
// a hostile tenant would: a Bash tool call made by the real CLI in alice's sandbox (the offline
// model turns `[[bash: …]]` into one), and each one must fail:
// - the gateway's /proc environ (which holds the real model key) and cwd (the tenants file);
// - bob's work files and bob's processes;
// - bob's agent server, Redis, the ingress, and a loopback service, dialled around the proxy;
// - a `setsid` process that would outlive DELETE;
// - and after a gateway `kill -9`, no process of its sandboxes is left, and a restarted gateway
//   sweeps the state they left.
// The probes print a marker the test checks, so a probe that silently did not run fails too.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isEgressKey } from '@berth/protocol';
import { startRedisServer, type RedisServer } from '../fixtures/redis-server.js';
import { waitFor } from '../fixtures/wait-for.js';
import { REAL_KEY, authHeaders, resultText, sendMessage, startTestStack, terminalFrames, type TestStack } from '../fixtures/stack.js';

const root = path.resolve(import.meta.dirname, '../..');
/** Two sandboxed turns and a claim on a busy two-core machine take tens of seconds. */
const TURNS_TIMEOUT_MS = 120_000;

/** Runs one Bash command in the session's sandbox and returns what the model reported it printed. */
async function bash(s: TestStack, token: string, sessionId: string, command: string): Promise<string> {
  const turn = await sendMessage(s.url, sessionId, `[[bash: ${command}]]`, { token });
  expect(terminalFrames(turn).map((f) => f.event), JSON.stringify(turn.problem ?? turn.frames.slice(-2))).toEqual(['done']);
  return resultText(turn);
}

/** Every pid whose command line contains `needle` (from the host's /proc). */
function pidsRunning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('probes from inside a sandbox (in-process gateway)', () => {
  let s: TestStack;
  let redis: RedisServer;
  let loopback: Server;
  let loopbackHits = 0;
  let stateDir: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    loopback = createServer((_req, res) => {
      loopbackHits += 1;
      res.end('loopback-secret\n');
    });
    await new Promise<void>((resolve) => loopback.listen(0, '127.0.0.1', resolve));
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'berth-iso-state-'));
    // Sandboxes run under their own uids: they must be able to pass through to their folders.
    await chmod(stateDir, 0o711);
    s = await startTestStack({
      poolSize: 1,
      redisUrl: redis.url,
      // 'on' fails the start where bwrap is missing, instead of silently testing plain processes.
      env: { BERTH_LOCAL_ISOLATION: 'on' },
      backendOptions: { stateDir },
    });
  });

  afterAll(async () => {
    await s?.stop();
    await redis?.stop();
    await new Promise((resolve) => loopback?.close(resolve));
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  test("bob's files and processes are invisible to alice's sandbox", async () => {
    const bobSaid = await bash(s, s.tokens.bob, 'iso-bob', 'echo bob-secret-$((40+2)) > bob-secret.txt; pwd');
    const bob = await s.stack.store.sessions.getSession('iso-bob');
    const bobFolder = path.join(stateDir, bob!.sandbox!.sandboxId);
    // bob's file exists on the host, so its absence from alice's view is isolation, not a typo.
    const bobCwd = /\/sandbox[^\s"\\]*/.exec(bobSaid)![0];
    const hostFile = path.join(bobFolder, 'work', path.relative('/sandbox', bobCwd), 'bob-secret.txt');
    expect(await readFile(hostFile, 'utf8')).toBe('bob-secret-42\n');
    const owner = JSON.parse(await readFile(path.join(bobFolder, 'owner.json'), 'utf8')) as { jailPid: number };

    const out = await bash(s, s.tokens.alice, 'iso-alice',
      `cat ${hostFile}; echo cat-rc=$?; ls ${stateDir}; echo ls-rc=$?; grep -rs 'bob-secret-4[2]' /sandbox /tmp /run /opt; echo grep-rc=$?; ` +
      `kill -0 ${owner.jailPid}; echo kill-rc=$?; echo ps-count=$(ps -e -o pid= | wc -l); echo proxy=$HTTPS_PROXY`);
    // The prompts never spell the secret out, so any occurrence would be bob's file.
    expect(out).not.toContain('bob-secret-42');
    expect(out).toMatch(/cat-rc=1/);
    expect(out).toMatch(/ls-rc=2/);
    expect(out).toMatch(/grep-rc=1/);
    expect(out).toMatch(/kill-rc=1/);
    // Its own processes only: bwrap's init, the agent server, the CLI(s), the shell and ps.
    const processCount = Number(/ps-count=(\d+)/.exec(out)?.[1]);
    expect(processCount).toBeGreaterThan(0);
    expect(processCount).toBeLessThan(15);

    // alice's credential, replayed from outside her sandbox (here: the host), is refused: the
    // egress gateway honours it only from her sandbox's own source address. Her first turn ran on
    // her standby's CLI, which holds the sandbox's own egress key; a CLI started after the claim
    // would hold the session credential (a JWT): both are bound to her sandbox the same way.
    const credential = decodeURIComponent(new URL(/proxy=(\S+?)(?:\\n|"|$)/.exec(out)![1]!).password);
    expect(isEgressKey(credential) || credential.split('.').length === 3).toBe(true);
    const mismatches = async (): Promise<number> => {
      const metric = s.stack.registry.getSingleMetric('berth_egress_decisions_total');
      const { values } = await metric!.get();
      return values.find((v) => v.labels.kind === 'model' && v.labels.reason === 'source_mismatch')?.value ?? 0;
    };
    const before = await mismatches();
    const replay = await fetch(`${s.stack.egressUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': credential, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-x', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(replay.status).toBe(401);
    await replay.body?.cancel();
    expect(await mismatches()).toBe(before + 1);
  }, TURNS_TIMEOUT_MS);

  test("bob's agent, Redis, the ingress and a loopback service are unreachable, proxy or not", async () => {
    await bash(s, s.tokens.bob, 'iso-bob2', 'echo up');
    const bob = await s.stack.store.sessions.getSession('iso-bob2');
    const bobAgent = new URL(bob!.sandbox!.url);
    const ingress = new URL(s.url);
    const loopbackPort = (loopback.address() as AddressInfo).port;
    // bob's agent answers on the host, so a refusal from inside is the namespace, not a dead port.
    expect((await fetch(new URL('/health', bobAgent))).status).toBe(401);
    const targets: Array<[string, string, number]> = [
      ['bob-agent', bobAgent.hostname, Number(bobAgent.port)],
      ['redis', '127.0.0.1', redis.port],
      ['ingress', ingress.hostname, Number(ingress.port)],
      ['loopback', '127.0.0.1', loopbackPort],
    ];
    const probe = targets.map(([name, host, port]) =>
      `curl -sS --noproxy '*' -m 5 http://${host}:${port}/ >/dev/null 2>&1; echo ${name}-direct=$?; ` +
      `echo ${name}-proxied=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --noproxy '' --proxy "$HTTP_PROXY" http://${host}:${port}/)`).join('; ');
    const hitsBefore = loopbackHits;
    const out = await bash(s, s.tokens.alice, 'iso-alice2', probe);
    for (const [name] of targets) {
      // 7: could not connect (no route out of the namespace). Through the proxy: 403 from the
      // egress gateway (loopback is on no allowlist), never the target's own answer.
      expect(out).toMatch(new RegExp(`${name}-direct=7`));
      expect(out).toMatch(new RegExp(`${name}-proxied=403`));
    }
    expect(loopbackHits).toBe(hitsBefore);
    // Nothing reached Redis either: bob's session record still names bob.
    expect((await s.stack.store.sessions.getSession('iso-bob2'))?.tenant).toBe('bob');
  }, TURNS_TIMEOUT_MS);

  test('a setsid process started through Bash does not outlive DELETE', async () => {
    const marker = `sleep ${4000 + Math.floor(Math.random() * 1000)}`;
    const out = await bash(s, s.tokens.alice, 'iso-setsid', `setsid ${marker} >/dev/null 2>&1 < /dev/null & echo started-bg`);
    expect(out).toContain('started-bg');
    // It is running (seen from the host), so its disappearance below is the release's doing.
    await waitFor('the marked process to run', () => pidsRunning(marker).length > 0);
    const del = await fetch(`${s.url}/sessions/iso-setsid`, { method: 'DELETE', headers: authHeaders(s.tokens.alice) });
    expect(del.status).toBe(200);
    const stopped = await waitFor('the marked processes to exit', () => pidsRunning(marker).length === 0).catch(() => false);
    expect(stopped, `still running: ${pidsRunning(marker).join(',')}`).toBe(true);
  }, TURNS_TIMEOUT_MS);
});

describe('a real `berth start` gateway', () => {
  let dir: string;
  let gateway: ChildProcess | undefined;
  const started: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Starts `berth start --offline-model` in `dir`; resolves with its URL and alice's token. */
  async function startBerth(poolSize = 1): Promise<{ url: string; alice: string; child: ChildProcess }> {
    const child = spawn(process.execPath, [path.join(root, 'cli/dist/main.js'), 'start', '--offline-model', '--port', '0', '--egress-port', '0', '--pool-size', String(poolSize), '--tenants-file', path.join(dir, '.berth', 'tenants.yaml')], {
      cwd: dir,
      // The real key sits in the gateway's environment, where a sandbox must not read it.
      env: { PATH: process.env.PATH ?? '', HOME: dir, TMPDIR: dir, ANTHROPIC_API_KEY: REAL_KEY, BERTH_LOCAL_ISOLATION: 'on' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child);
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
    // Bounded for a busy two-core machine where the e2e files run two at a time: a first isolated
    // standby (node, bwrap, the agent server) behind every other suite's sandboxes. The timeout
    // names what berth printed, so a hang is diagnosable.
    const ready = await waitFor('berth start to print its banner or exit', () => out.includes('Ctrl-C stops everything') || child.exitCode !== null, { timeoutMs: 150_000 }).catch((error: unknown) => {
      throw new Error(`${String(error)}; berth start printed:\n${out}`);
    });
    expect(ready && child.exitCode === null, out).toBe(true);
    const url = /berth is running: (http:\/\/[^\s]+)/.exec(out)![1]!;
    const alice = /alice\s+token: (berth_\S+)/.exec(out)![1]!;
    return { url, alice, child };
  }

  test("the gateway's environ and cwd are out of reach; kill -9 leaves no sandbox process, and a restart sweeps its state", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-iso-gw-'));
    await chmod(dir, 0o711);
    const first = await startBerth();
    gateway = first.child;
    const s = { url: first.url } as TestStack;
    const pid = first.child.pid!;
    // The key is really there, seen from the host: the probe below can fail.
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).toContain(REAL_KEY);
    const out = await bash(s, first.alice, 'iso-gw', `cat /proc/${pid}/environ; echo environ-rc=$?; ls /proc/${pid}/cwd/.berth; echo cwd-rc=$?; ls ${dir}; echo dir-rc=$?`);
    expect(out).not.toContain(REAL_KEY);
    expect(out).toMatch(/environ-rc=1/);
    expect(out).toMatch(/cwd-rc=2/);
    expect(out).toMatch(/dir-rc=2/);

    const stateDir = path.join(dir, 'berth-sandboxes');
    // The session's sandbox and the standby replacing it, which starts REFILL_DELAY_MS after the
    // claim: both once their jail runs (owner.json names no jail while one starts).
    const jailOf = (id: string): number | null => {
      try {
        return (JSON.parse(readFileSync(path.join(stateDir, id, 'owner.json'), 'utf8')) as { jailPid: number | null }).jailPid;
      } catch {
        return null;
      }
    };
    await waitFor('the replacement standby to start', () => readdirSync(stateDir).filter((id) => jailOf(id) !== null).length >= 2);
    const folders = readdirSync(stateDir);
    const jailPids = folders.map(jailOf);
    expect(jailPids).toHaveLength(2);
    for (const jail of jailPids) expect(existsSync(`/proc/${jail}`)).toBe(true);

    gateway.kill('SIGKILL');
    await new Promise((resolve) => gateway!.once('exit', resolve));
    const gone = await waitFor('every jail and sandbox process gone', () => jailPids.every((jail) => !existsSync(`/proc/${jail}`)) && pidsRunning(stateDir).length === 0).catch(() => false);
    expect(gone, `left: ${pidsRunning(stateDir).join(',')}`).toBe(true);
    // Their folders are still there: nobody was left to remove them.
    for (const id of folders) expect(existsSync(path.join(stateDir, id))).toBe(true);

    // The sweep runs as the backend starts, before the banner: the restart needs no standby.
    const second = await startBerth(0);
    for (const id of folders) expect(existsSync(path.join(stateDir, id)), id).toBe(false);
    second.child.kill('SIGINT');
    await new Promise((resolve) => second.child.once('exit', resolve));
  }, 420_000);
});
