// The egress gateway end to end, through the real Agent SDK and CLI in a local sandbox (issue:
// egress control and credentials). Pins: model calls reach the model only through the reverse
// proxy, carrying the session credential in and the real key out; metered tokens equal what the
// model reported, a retried 529 included; the real key is in no sandbox process's environment;
// the Bash tool's curl reaches an allowlisted HTTPS host through CONNECT and is refused (403 at
// the proxy) elsewhere; a released session's credential is refused.
//
// Wiring: caller → ingress → local sandbox (agent server → CLI) → egress gateway → usage tap →
// offline model. The tap records what the model answered (tests/fixtures/usage-tap.ts); /proc
// tells what the processes hold (tests/fixtures/proc-env.ts).

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startOfflineModel, type OfflineModel } from '@berth/cli/offline-model';
import type { ResolvedAddress } from '@berth/gateway/egress';
import { hashToken } from '@berth/gateway/tenants';
import { connectStatus, egressDecisions, modelCall } from '../fixtures/egress-calls.js';
import { childPids, pidListeningOn, readEnviron, readEnvironRaw } from '../fixtures/proc-env.js';
import { REAL_KEY, TEST_TOKENS, authHeaders, resultText, sendMessage, startTestStack, terminalFrames, type TestStack, type Turn } from '../fixtures/stack.js';
import { TLS_SERVER_BODY, makeSelfSignedCert } from '../fixtures/tls-server.js';
import { startUsageTap, sumUsage, type UsageTap } from '../fixtures/usage-tap.js';
import { waitFor } from '../fixtures/wait-for.js';

/** `.example` is reserved (RFC 2606): neither name can ever resolve to a real host. */
const ALLOWED_HOST = 'tls.berth-e2e.example';
const DENIED_HOST = 'denied.berth-e2e.example';

let s: TestStack;
let model: OfflineModel;
let tap: UsageTap;
let tls: CountingTlsServer;
let dir: string;
let caFile: string;
const resolved: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-egress-e2e-'));
  tls = await startCountingTlsServer([ALLOWED_HOST]);
  caFile = path.join(dir, 'ca.pem');
  await writeFile(caFile, tls.ca);
  // Both fake names resolve to the loopback TLS server, so only the allowlist stands between
  // DENIED_HOST and a connection. ALLOWED_HOST's answer (127.0.0.1) is a special-purpose address,
  // which the proxy dials only because the allowlist also names `127.0.0.1:<port>` explicitly;
  // without that entry the CONNECT would be refused as `special_address` (no SSRF to loopback).
  const tenants = `tenants:
  alice:
    tokenHashes: ["${hashToken(TEST_TOKENS.alice)}"]
    agent: { allowedTools: [Bash], permissionMode: default, maxTurns: 8 }
    egress: { allow: ["${ALLOWED_HOST}:${tls.port}", "127.0.0.1:${tls.port}"] }
admins:
  tokenHashes: ["${hashToken(TEST_TOKENS.admin)}"]
`;
  await writeFile(path.join(dir, 'tenants.yaml'), tenants);
  model = await startOfflineModel();
  tap = await startUsageTap(model.url);
  s = await startTestStack({
    dir,
    // This suite reads the sandbox's processes from the host's /proc, hands the CLI a CA file
    // from the host's /tmp and replays the sandbox's credential from the test process: all three
    // are what an isolated sandbox forbids on purpose. It pins the egress gateway on a plain
    // process; isolation.test.ts pins the isolated tier, where the same probes fail.
    env: { BERTH_LOCAL_ISOLATION: 'off' },
    // The stack's upstream is the tap; scripting and request records stay on the real model.
    model: { ...model, url: tap.url },
    // One retry: a scripted 529 is retried once, and a dead upstream fails fast. No pre-started
    // CLI: this suite reads the session credential from the CLI's /proc environ, which only a CLI
    // started after the claim has (a standby's CLI holds its sandbox's own egress key instead;
    // egress-key.test.ts pins that key against this same egress gateway).
    agentEnv: { BERTH_AGENT_MAX_RETRIES: '1', BERTH_AGENT_PRESTART: '0' },
    egressResolver: async (name: string): Promise<ResolvedAddress[]> => {
      resolved.push(name);
      if (name === ALLOWED_HOST || name === DENIED_HOST) return [{ address: '127.0.0.1', family: 4 }];
      throw new Error(`ENOTFOUND ${name}`);
    },
  });
});

afterAll(async () => {
  await s?.stop();
  await tap?.close();
  await model?.close();
  await tls?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('model calls through the egress reverse proxy', () => {
  test('the model sees only the real key; metered tokens equal the reported usage, a retried 529 counted once', async () => {
    const id = 'egress-usage';
    const first = tap.responses.length;
    const allowedBefore = await egressDecisions(s, 'model', 'allow', 'ok');
    model.script({ kind: 'status', status: 529 });
    const turn = await sendMessage(s.url, id, 'count my tokens', { token: s.tokens.alice });
    expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);
    expect(model.pending()).toBe(0);

    // Every model request of this session (its only turn so far) in the order the model got them.
    const mine = tap.responses.slice(first);
    expect(mine[0]).toMatchObject({ path: expect.stringMatching(/^\/v1\/messages/), status: 529, usage: null });
    expect(JSON.parse(mine[0]!.body)).not.toHaveProperty('usage');
    const answered = mine.filter((r) => r.status === 200);
    expect(answered.length).toBeGreaterThanOrEqual(1);
    expect(answered.every((r) => r.usage !== null && r.usage.inputTokens > 0)).toBe(true);
    for (const r of mine) {
      expect(r.requestHeaders['x-api-key']).toBe(REAL_KEY);
      expect(r.requestHeaders.authorization).toBeUndefined();
      // The CLI made it (its user agent came through), so it passed the proxy.
      expect(r.requestHeaders['user-agent']).toMatch(/claude-cli/);
    }
    // Each of them passed the reverse proxy's credential check: the proxy is the only way to
    // the model (the CLI holds no other key, see the environ test).
    expect((await egressDecisions(s, 'model', 'allow', 'ok')) - allowedBefore).toBe(mine.length);

    // What "no double count" means: the session's metered tokens are the sum, over the model's
    // answers to this session, of each answer's own reported usage (usage-tap.ts defines it).
    // The 529 carries none and adds 0; the retry is a separate answer and adds its own usage
    // once. Counting the retried request twice, or the failed attempt at all, breaks equality.
    const expected = sumUsage(mine.map((r) => r.usage));
    // The egress gateway records usage just after a response ends, so the caller's `done` can
    // come first: wait for the expected figures; a timeout names the last ones seen.
    const metered = await waitFor('the metered usage to equal the reported usage', async () => {
      const usage = (await usageReport()).sessions[id];
      return sameUsage(usage, expected) ? usage : null;
    });
    expect(metered).toEqual(expected);
  });
});

describe('what the sandbox holds', () => {
  test('neither the agent server nor its CLI has the real key; the CLI has the session credential and the egress proxy', async () => {
    const id = 'egress-env';
    const seen = await duringSlowTurn(id);
    expect(terminalFrames(seen.turn).map((f) => f.event)).toEqual(['done']);

    expect(seen.serverEnvRaw).not.toContain(REAL_KEY);
    expect(seen.cliEnvRaws.length).toBeGreaterThanOrEqual(1);
    for (const raw of seen.cliEnvRaws) expect(raw).not.toContain(REAL_KEY);

    const cli = seen.cliEnv;
    const egressUrl = s.stack.egressUrl!;
    const credential = cli.ANTHROPIC_API_KEY!;
    expect(credential).not.toBe(REAL_KEY);
    expect(cli.ANTHROPIC_BASE_URL).toBe(egressUrl);
    const claims = jwtClaims(credential);
    const session = await s.stack.store.sessions.getSession(id);
    expect(claims).toMatchObject({ ten: 'alice', sid: id, sbx: session!.sandbox!.sandboxId });
    expect(typeof claims.exp).toBe('number');
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) {
      const proxy = new URL(cli[name]!);
      expect(proxy.origin, name).toBe(egressUrl);
      expect(decodeURIComponent(proxy.password), name).toBe(credential);
    }
    // The agent server's own secret stays out of the CLI (and so out of every tool it runs).
    expect(cli.AGENT_AUTH_TOKEN).toBeUndefined();
  });
});

describe('the Bash tool through the forward proxy', () => {
  test('curl reaches an allowlisted HTTPS host through CONNECT', async () => {
    const connections = tls.connections;
    const turn = await sendMessage(s.url, 'egress-curl-ok', `[[bash: curl -sS --cacert ${caFile} https://${ALLOWED_HOST}:${tls.port}/through-proxy; echo curl-exit=$?]]`, { token: s.tokens.alice });
    expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);
    const result = resultText(turn);
    expect(result).toContain(TLS_SERVER_BODY.trim());
    expect(result).toContain('curl-exit=0');
    expect(tls.connections).toBe(connections + 1);
    expect(tls.paths.at(-1)).toBe('/through-proxy');
    expect(resolved).toContain(ALLOWED_HOST);
  });

  test('curl to a name not on the list is refused at the proxy with 403, and the server sees nothing', async () => {
    const connections = tls.connections;
    const deniedBefore = await egressDecisions(s, 'connect', 'deny', 'not_allowlisted');
    const turn = await sendMessage(s.url, 'egress-curl-denied', `[[bash: curl -sS --cacert ${caFile} https://${DENIED_HOST}:${tls.port}/nope; echo curl-exit=$?]]`, { token: s.tokens.alice });
    expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);
    const result = resultText(turn);
    // curl's own words for a CONNECT answered 403, and its exit code 56 (failure receiving data).
    expect(result).toMatch(/CONNECT tunnel failed, response 403/);
    expect(result).toContain('curl-exit=56');
    expect(await egressDecisions(s, 'connect', 'deny', 'not_allowlisted')).toBe(deniedBefore + 1);
    expect(tls.connections).toBe(connections);
    // Refused before any DNS: the name was never even resolved.
    expect(resolved).not.toContain(DENIED_HOST);
  });
});

describe('revocation', () => {
  test("after DELETE, the credential the sandbox held is refused by the egress gateway", async () => {
    const id = 'egress-revoke';
    const seen = await duringSlowTurn(id);
    const credential = seen.cliEnv.ANTHROPIC_API_KEY!;
    const egressUrl = s.stack.egressUrl!;

    // Valid before release, so the refusal below is revocation and not a broken credential.
    const before = await modelCall(egressUrl, credential);
    expect(before.status).toBe(200);

    const del = await fetch(`${s.url}/sessions/${id}`, { method: 'DELETE', headers: authHeaders(s.tokens.alice) });
    expect(del.status).toBe(200);
    const revokedBefore = await egressDecisions(s, 'model', 'deny', 'credential_revoked');
    const toModel = tap.responses.length;

    const after = await modelCall(egressUrl, credential);
    expect(after.status).toBe(401);
    expect(after.contentType).toMatch(/^application\/json/);
    expect(after.body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(JSON.stringify(after.body)).not.toContain(credential);
    expect(await egressDecisions(s, 'model', 'deny', 'credential_revoked')).toBe(revokedBefore + 1);
    expect(tap.responses.length).toBe(toModel);

    // The forward proxy door refuses it too (407), before any destination is considered.
    const connections = tls.connections;
    expect(await connectStatus(egressUrl, credential, `${ALLOWED_HOST}:${tls.port}`)).toBe(407);
    expect(tls.connections).toBe(connections);
  });
});

// ---- helpers ----------------------------------------------------------------------------------

interface SlowTurnView {
  turn: Turn;
  serverEnvRaw: string;
  cliEnvRaws: string[];
  cliEnv: Record<string, string>;
}

/**
 * Runs one turn whose model answer is slow (delay between SSE events), and meanwhile finds the
 * session's agent server (the child of this process listening on the bound sandbox's port) and
 * its CLI children (those with ANTHROPIC_BASE_URL), reading their environments from /proc.
 */
async function duringSlowTurn(id: string): Promise<SlowTurnView> {
  // ~10 SSE events × 300 ms: seconds of a live CLI, whatever the machine's speed.
  model.script({ kind: 'slow', delayMs: 300 });
  let done = false;
  const running = sendMessage(s.url, id, 'take your time', { token: s.tokens.alice }).finally(() => (done = true));
  const found = await waitFor('the sandbox processes while the turn runs, or its end', async () => (done ? 'ended' : await findSandboxProcesses(id)), { timeoutMs: 60_000 });
  const turn = await running;
  if (found === 'ended') throw new Error('the CLI was not seen while the turn ran');
  return { turn, ...found };
}

async function findSandboxProcesses(id: string): Promise<Omit<SlowTurnView, 'turn'> | undefined> {
  const session = await s.stack.store.sessions.getSession(id);
  if (!session?.sandbox) return undefined;
  const port = Number(new URL(session.sandbox.url).port);
  const server = pidListeningOn(port, childPids(process.pid));
  if (server === undefined) return undefined;
  const serverEnvRaw = readEnvironRaw(server);
  const clis = childPids(server)
    .map((pid) => ({ raw: readEnvironRaw(pid), env: readEnviron(pid) }))
    .filter((c): c is { raw: string; env: Record<string, string> } => c.raw !== null && c.env !== null && c.env.ANTHROPIC_BASE_URL !== undefined);
  if (serverEnvRaw === null || clis.length === 0) return undefined;
  return { serverEnvRaw, cliEnvRaws: clis.map((c) => c.raw), cliEnv: clis[0]!.env };
}

function jwtClaims(token: string): Record<string, unknown> {
  const parts = token.split('.');
  expect(parts).toHaveLength(3);
  return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

interface UsageFields {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

async function usageReport(): Promise<{ sessions: Record<string, UsageFields> }> {
  const res = await fetch(`${s.url}/api/usage`, { headers: authHeaders(s.tokens.alice) });
  expect(res.status).toBe(200);
  return (await res.json()) as { sessions: Record<string, UsageFields> };
}

function sameUsage(a: UsageFields | undefined, b: UsageFields): boolean {
  return !!a && a.inputTokens === b.inputTokens && a.outputTokens === b.outputTokens
    && a.cacheCreationInputTokens === b.cacheCreationInputTokens && a.cacheReadInputTokens === b.cacheReadInputTokens;
}


interface CountingTlsServer {
  port: number;
  ca: string;
  /** TCP connections accepted: a refused CONNECT must leave this unchanged. */
  connections: number;
  paths: string[];
  close(): Promise<void>;
}

/** The tls-server fixture's certificate and body, plus a count of TCP connections (not just requests). */
async function startCountingTlsServer(names: string[]): Promise<CountingTlsServer> {
  const { key, cert } = makeSelfSignedCert(names);
  const view = { connections: 0, paths: [] as string[] };
  const server: Server = createServer({ key, cert }, (req, res) => {
    view.paths.push(req.url ?? '');
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(TLS_SERVER_BODY) });
    res.end(TLS_SERVER_BODY);
  });
  server.on('connection', () => (view.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    ca: cert,
    get connections() {
      return view.connections;
    },
    paths: view.paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
