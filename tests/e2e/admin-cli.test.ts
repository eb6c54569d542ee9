// The `berth` admin CLI against a running stack (issue 9 item 5): `node cli/dist/main.js` is
// spawned with BERTH_URL / BERTH_ADMIN_TOKEN as an operator would run it. Pins the table and
// --json output of sessions/pool/usage, paging, delete releasing the session, one-line problem
// errors with exit codes 0/1/2, the admin API refusing tenant tokens (403), tenants check
// offline and --remote on good and bad files, both `token` forms and `token mint --admin`;
// --help on every command, --version, and `npx berth` through the bin entry.

import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hashToken } from '@berth/gateway/tenants';
import { authHeaders, sendMessage, startTestStack, terminalFrames, type TestStack } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

const root = path.resolve(import.meta.dirname, '../..');
/** Per test: several CLI spawns (each a node start) on a shared, loaded machine. Not a timing assertion. */
const SPAWNS_TIMEOUT_MS = 120_000;
let s: TestStack;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the berth CLI as a child process with only the env it is given (plus PATH). */
function berth(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, 'cli/dist/main.js'), ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: s.dir, BERTH_URL: s.url, BERTH_ADMIN_TOKEN: s.tokens.admin, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

async function json<T>(args: string[], env: Record<string, string> = {}): Promise<T> {
  const run = await berth([...args, '--json'], env);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as T;
}

/** Sessions without a sandbox, written straight into the store: listing and paging need no turns. */
const EXTRA = ['adm-x1', 'adm-x2', 'adm-x3'];

beforeAll(async () => {
  // bob may hold one session: the delete test shows an admin delete frees that slot.
  s = await startTestStack({ poolSize: 1, tenantExtra: { bob: '    limits: { maxConcurrentSessions: 1 }\n' } });
  // The two turns side by side: independent sessions of two tenants.
  const turns = await Promise.all(([['adm-a1', 'alice'], ['adm-b1', 'bob']] as const).map(([id, tenant]) => sendMessage(s.url, id, 'hello admin', { token: s.tokens[tenant] })));
  for (const turn of turns) expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);
  // Metering is written by the egress gateway as each model response ends; usage tests read it.
  await waitFor('usage metered for alice and bob', async () => (await s.stack.store.usage.getUsage('alice')).tenant.outputTokens > 0 && (await s.stack.store.usage.getUsage('bob')).tenant.outputTokens > 0);
  const now = Date.now();
  for (const id of EXTRA) {
    await s.stack.store.sessions.createSession({ id, tenant: 'alice', profile: 'default', sandbox: null, sdkSessionId: null, createdAt: now, lastActivityAt: now, turns: 0 });
  }
}, SPAWNS_TIMEOUT_MS);
afterAll(async () => s?.stop());

interface SessionJson {
  id: string;
  tenant: string;
  turns: number;
  sandbox: { sandboxId: string } | null;
  usage?: { inputTokens: number } | null;
}

describe('berth sessions', () => {
  test('list prints an aligned table of every tenant’s sessions, in id order', async () => {
    const run = await berth(['sessions', 'list']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const [header, ...rows] = run.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+TENANT\s+PROFILE\s+TURNS\s+SANDBOX\s+LAST ACTIVE\s+CREATED$/);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(['adm-a1', 'adm-b1', ...EXTRA]);
    // Aligned: every row's tenant and sandbox cells start under their headers.
    const tenantAt = header!.indexOf('TENANT');
    const sandboxAt = header!.indexOf('SANDBOX');
    for (const row of rows) {
      expect(row.slice(tenantAt)).toMatch(/^(alice|bob) /);
      expect(row[sandboxAt - 1]).toBe(' ');
      expect(row[sandboxAt]).not.toBe(' ');
    }
    expect(rows.find((r) => r.startsWith('adm-b1'))!.slice(tenantAt)).toMatch(/^bob /);
    expect(rows.find((r) => r.startsWith('adm-x1'))!.slice(sandboxAt)).toMatch(/^- /);
  }, SPAWNS_TIMEOUT_MS);

  test('list --json carries tenants, turns and sandbox ids but never a sandbox URL or token', async () => {
    const run = await berth(['sessions', 'list', '--json']);
    expect(run.code).toBe(0);
    const page = JSON.parse(run.stdout) as { sessions: SessionJson[]; nextCursor: string | null };
    expect(page.nextCursor).toBeNull();
    expect(page.sessions.map((x) => [x.id, x.tenant])).toEqual([['adm-a1', 'alice'], ['adm-b1', 'bob'], ...EXTRA.map((id) => [id, 'alice'])]);
    const a1 = page.sessions[0]!;
    expect(a1.turns).toBe(1);
    expect(a1.sandbox?.sandboxId).toEqual(expect.any(String));
    expect(run.stdout).not.toMatch(/authToken|"url"|http:\/\//);
  }, SPAWNS_TIMEOUT_MS);

  test('--tenant filters; --limit pages with a cursor; --all follows every page', async () => {
    type Page = { sessions: SessionJson[]; nextCursor: string | null };
    // The listings that need no cursor run side by side (read-only); the ones that follow a cursor after.
    const [bob, first, all, aliceOnly, aliceAll, table] = await Promise.all([
      json<Page>(['sessions', 'list', '--tenant', 'bob']),
      json<Page>(['sessions', 'list', '--limit', '2']),
      json<Page>(['sessions', 'list', '--limit', '2', '--all']),
      json<Page>(['sessions', 'list', '--tenant', 'alice', '--limit', '3']),
      json<Page>(['sessions', 'list', '--tenant', 'alice', '--limit', '1', '--all']),
      berth(['sessions', 'list', '--limit', '1']),
    ]);
    expect(bob.sessions.map((x) => x.id)).toEqual(['adm-b1']);
    expect(first.sessions.map((x) => x.id)).toEqual(['adm-a1', 'adm-b1']);
    // The cursor is opaque: the CLI hands back what the page said.
    expect(first.nextCursor).toEqual(expect.any(String));
    const [second, aliceRest] = await Promise.all([
      json<Page>(['sessions', 'list', '--limit', '2', '--cursor', first.nextCursor!]),
      json<Page>(['sessions', 'list', '--tenant', 'alice', '--limit', '3', '--cursor', aliceOnly.nextCursor!]),
    ]);
    expect(second.sessions.map((x) => x.id)).toEqual(['adm-x1', 'adm-x2']);
    expect(all.sessions.map((x) => x.id)).toEqual(['adm-a1', 'adm-b1', ...EXTRA]);
    expect(all.nextCursor).toBeNull();
    // One tenant's listing is newest first (EXTRA share one creation time: ties by id, descending).
    expect(aliceOnly.sessions.map((x) => x.id)).toEqual(['adm-x3', 'adm-x2', 'adm-x1']);
    expect(aliceRest).toMatchObject({ sessions: [expect.objectContaining({ id: 'adm-a1' })], nextCursor: null });
    expect(aliceAll.sessions.map((x) => x.id)).toEqual(['adm-x3', 'adm-x2', 'adm-x1', 'adm-a1']);
    // The table says where the next page starts, on stderr (stdout stays rows only).
    expect(table.code).toBe(0);
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(table.stderr).toMatch(/^more sessions: berth sessions list --cursor [A-Za-z0-9_-]+ \(or --all\)\n$/);
  }, SPAWNS_TIMEOUT_MS);

  test('show prints the fields; --json adds the session’s token usage', async () => {
    const run = await berth(['sessions', 'show', 'adm-a1']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id\s+adm-a1$/);
    expect(run.stdout).toMatch(/^tenant\s+alice$/m);
    expect(run.stdout).toMatch(/^turns\s+1$/m);
    expect(run.stdout).toMatch(/^sandbox\s+\S+ \(profile default, claimed /m);
    // Aligned: every value starts in the same column.
    const valueAt = lines[0]!.indexOf('adm-a1');
    for (const line of lines) expect(line.slice(valueAt - 2, valueAt + 1)).toMatch(/^ {2}\S$/);
    const shown = await json<SessionJson>(['sessions', 'show', 'adm-a1']);
    expect(shown.usage?.inputTokens).toBeGreaterThan(0);
  }, SPAWNS_TIMEOUT_MS);

  test('show of an unknown id: exit 1 and the gateway’s problem as one line', async () => {
    const run = await berth(['sessions', 'show', 'adm-none']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('berth sessions: 404 session_not_found: no session adm-none\n');
  }, SPAWNS_TIMEOUT_MS);

  test('delete removes the session, releases its sandbox and frees the tenant’s session slot', async () => {
    expect((await berth(['sessions', 'show', 'adm-b1'])).code).toBe(0);
    const run = await berth(['sessions', 'delete', 'adm-b1']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('deleted session adm-b1 (tenant bob); its sandbox is released\n');
    expect((await berth(['sessions', 'show', 'adm-b1'])).code).toBe(1);
    const owner = await fetch(`${s.url}/sessions/adm-b1`, { headers: authHeaders(s.tokens.bob) });
    expect(owner.status).toBe(404);
    // bob's one session slot is free again: a new session of his starts (429 if the slot leaked).
    const next = await sendMessage(s.url, 'adm-b2', 'hello again', { token: s.tokens.bob });
    expect([next.status, terminalFrames(next).map((f) => f.event)]).toEqual([200, ['done']]);
    const again = await berth(['sessions', 'delete', 'adm-b1']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('berth sessions: 404 session_not_found: no session adm-b1\n');
  }, SPAWNS_TIMEOUT_MS);
});

describe('berth pool and usage', () => {
  test('pool: a table per profile, and the JSON of the backend', async () => {
    const run = await berth(['pool']);
    expect(run.code).toBe(0);
    const [backend, header, row] = run.stdout.trimEnd().split('\n');
    expect(backend).toBe('backend: local');
    expect(header).toMatch(/^PROFILE\s+TARGET\s+READY\s+STARTING\s+CLAIMED\s+WARM CLAIMS\s+COLD STARTS$/);
    expect(row).toMatch(/^default\s+1\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+$/);
    const report = await json<{ backend: string; pools: Array<{ profile: string; target: number }> }>(['pool']);
    expect(report).toMatchObject({ backend: 'local', pools: [{ profile: 'default', target: 1 }] });
  }, SPAWNS_TIMEOUT_MS);

  test('usage: one row per tenant; --tenant: one row per session and a total', async () => {
    const all = await json<{ usage: Array<{ tenant: string; total: { inputTokens: number }; sessionCount: number }> }>(['usage']);
    expect(all.usage.map((u) => u.tenant)).toEqual(['alice', 'bob']);
    expect(all.usage[0]!.total.inputTokens).toBeGreaterThan(0);
    expect(all.usage[0]!.sessionCount).toBe(1);
    const table = await berth(['usage']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TENANT\s+INPUT\s+OUTPUT\s+CACHE WRITE\s+CACHE READ\s+SESSIONS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['alice', 'bob']);
    const alice = await berth(['usage', '--tenant', 'alice']);
    expect([alice.code, alice.stderr]).toEqual([0, '']);
    const aliceLines = alice.stdout.trimEnd().split('\n');
    expect(aliceLines[0]).toBe('tenant: alice');
    expect(aliceLines.slice(2).map((l) => l.split(/\s+/)[0])).toEqual(['adm-a1', '(total)']);
    const bad = await berth(['usage', '--tenant', 'Not A Name']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^berth usage: 400 invalid_body: \?tenant must be a tenant name[^\n]*\n$/);
  }, SPAWNS_TIMEOUT_MS);
});

describe('who may use the admin API', () => {
  const routes: Array<[string, string]> = [
    ['GET', '/admin/sessions'],
    ['GET', '/admin/sessions/adm-a1'],
    ['DELETE', '/admin/sessions/adm-a1'],
    ['GET', '/admin/pool'],
    ['GET', '/admin/usage'],
    ['POST', '/admin/tenants/check'],
  ];

  test('a tenant token gets 403 on every admin route, no token 401; the session survives', async () => {
    for (const [method, route] of routes) {
      const tenant = await fetch(s.url + route, { method, headers: authHeaders(s.tokens.alice), ...(method === 'POST' ? { body: 'tenants: {}' } : {}) });
      expect([route, tenant.status]).toEqual([route, 403]);
      expect(tenant.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await tenant.json()) as { code: string }).code).toBe('forbidden');
      const anonymous = await fetch(s.url + route, { method });
      expect([route, anonymous.status]).toEqual([route, 401]);
    }
    expect((await fetch(`${s.url}/sessions/adm-a1`, { headers: authHeaders(s.tokens.alice) })).status).toBe(200);
  }, SPAWNS_TIMEOUT_MS);

  test('the CLI with a tenant token: exit 1 and one clear line', async () => {
    const run = await berth(['sessions', 'list'], { BERTH_ADMIN_TOKEN: s.tokens.alice });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('berth sessions: 403 forbidden: admin routes need an admin token\n');
    expect(run.stderr).not.toContain(s.tokens.alice);
  }, SPAWNS_TIMEOUT_MS);

  test('no token is a usage error (exit 2); --token and --url override the environment', async () => {
    const none = await berth(['pool'], { BERTH_ADMIN_TOKEN: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('berth pool: no admin token: pass --token or set BERTH_ADMIN_TOKEN\n');
    const flags = await berth(['pool', '--json', '--url', s.url, '--token', s.tokens.admin], { BERTH_ADMIN_TOKEN: '', BERTH_URL: 'http://127.0.0.1:1' });
    expect(flags.code).toBe(0);
    expect(JSON.parse(flags.stdout)).toMatchObject({ backend: 'local' });
  }, SPAWNS_TIMEOUT_MS);

  test('an unreachable gateway: exit 1 naming the URL', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = server.address() as { port: number };
        server.close(() => resolve(p));
      });
    });
    const run = await berth(['pool'], { BERTH_URL: `http://127.0.0.1:${port}` });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`berth pool: cannot reach the gateway at http://127.0.0.1:${port}: ECONNREFUSED (set --url or BERTH_URL)\n`);
  }, SPAWNS_TIMEOUT_MS);
});

describe('berth tenants check and berth token', () => {
  const good = `tenants:
  carol:
    tokenHashes: ["${hashToken('carol-token')}"]
    agent: { maxTurns: 5 }
    sandboxProfile: gpu
admins:
  tokenHashes: ["${hashToken('admin-token')}"]
`;
  const bad = `tenants:
  Carol:
    tokenHashes: ["sha256:nothex"]
    agent: { maxTurns: 0 }
  dave:
    limits: { requestsPerMinute: -1 }
`;

  test('a good file: exit 0 and a one-line summary (offline: no gateway needed)', async () => {
    const file = path.join(s.dir, 'good.yaml');
    await writeFile(file, good);
    const run = await berth(['tenants', 'check', file], { BERTH_URL: 'http://127.0.0.1:1', BERTH_ADMIN_TOKEN: '' });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${file}: ok: 1 tenant (carol), 1 admin token\n`);
    expect(run.stderr).toBe('');
    // The stack's own tenants file is valid too.
    expect((await berth(['tenants', 'check', path.join(s.dir, 'tenants.yaml')])).code).toBe(0);
  }, SPAWNS_TIMEOUT_MS);

  test('a bad file: exit 1 with every problem listed', async () => {
    const file = path.join(s.dir, 'bad.yaml');
    await writeFile(file, bad);
    const run = await berth(['tenants', 'check', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`${file}: 4 problems`);
    expect(lines.slice(1).map((l) => l.trim().split(':')[0])).toEqual([
      'tenants.Carol',
      'tenants.Carol.tokenHashes[0]',
      'tenants.Carol.agent.maxTurns',
      'tenants.dave.limits.requestsPerMinute',
    ]);
    const asJson = await berth(['tenants', 'check', file, '--json']);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ ok: false, problems: expect.arrayContaining([expect.stringContaining('maxTurns')]) });
    expect((await berth(['tenants', 'check', path.join(s.dir, 'missing.yaml')])).stderr).toMatch(/cannot read .*missing\.yaml: ENOENT/);
    expect((await berth(['tenants', 'check'])).code).toBe(2);
  }, SPAWNS_TIMEOUT_MS);

  test('--remote asks the gateway: the same problems, plus a warning for a profile it lacks', async () => {
    const badRun = await berth(['tenants', 'check', path.join(s.dir, 'bad.yaml'), '--remote', '--json']);
    expect(badRun.code).toBe(1);
    const local = JSON.parse((await berth(['tenants', 'check', path.join(s.dir, 'bad.yaml'), '--json'])).stdout) as { problems: string[] };
    expect((JSON.parse(badRun.stdout) as { problems: string[] }).problems).toEqual(local.problems);
    const goodRun = await berth(['tenants', 'check', path.join(s.dir, 'good.yaml'), '--remote']);
    expect(goodRun.code).toBe(0);
    expect(goodRun.stderr).toBe(`${path.join(s.dir, 'good.yaml')}: warning: tenants.carol.sandboxProfile: this gateway has no profile "gpu"\n`);
  }, SPAWNS_TIMEOUT_MS);

  test('token mint <tenant> and token <tenant> both mint; revoke removes; the file stays valid', async () => {
    const file = path.join(s.dir, 'minted.yaml');
    const minted = await berth(['token', 'mint', 'erin', '--file', file]);
    expect(minted.code).toBe(0);
    const short = await berth(['token', 'frank', '--file', file]);
    expect(short.code).toBe(0);
    for (const run of [minted, short]) expect(run.stdout).toMatch(/^berth_[A-Za-z0-9_-]{43}\n$/);
    const check = await berth(['tenants', 'check', file]);
    expect(check.stdout).toBe(`${file}: ok: 2 tenants (erin, frank), 0 admin tokens\n`);
    const revoked = await berth(['token', 'revoke', minted.stdout.trim(), '--file', file]);
    expect(revoked.code).toBe(0);
    expect((await berth(['token', 'revoke', minted.stdout.trim(), '--file', file])).code).toBe(1);
    expect((await berth(['token', 'mint', '--file', file])).code).toBe(2);
  }, SPAWNS_TIMEOUT_MS);
});

describe('help, version and the bin', () => {
  const COMMAND_NAMES = ['start', 'gateway', 'token', 'sessions', 'pool', 'usage', 'tenants'];

  test('every command answers --help on stdout with exit 0, without a gateway or a stack', async () => {
    const runs = await Promise.all(COMMAND_NAMES.map((name) => berth([name, '--help'], { BERTH_URL: 'http://127.0.0.1:1', BERTH_ADMIN_TOKEN: '' })));
    for (const [i, name] of COMMAND_NAMES.entries()) {
      const run = runs[i]!;
      expect({ name, code: run.code, stderr: run.stderr }).toEqual({ name, code: 0, stderr: '' });
      expect(run.stdout).toMatch(new RegExp(`^usage: berth ${name}\\b`));
      expect(run.stdout).toContain('-h, --help');
    }
    const top = await berth(['--help']);
    expect(top.code).toBe(0);
    for (const name of COMMAND_NAMES) expect(top.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect((await berth(['help', 'pool'])).stdout).toMatch(/^usage: berth pool /);
  }, SPAWNS_TIMEOUT_MS);

  test('--version prints the package version; an unknown flag or command exits 2 naming it', async () => {
    const { version } = JSON.parse(readFileSync(path.join(root, 'cli/package.json'), 'utf8')) as { version: string };
    const run = await berth(['--version']);
    expect(run).toEqual({ code: 0, stdout: `berth ${version}\n`, stderr: '' });
    const typo = await berth(['sessions', 'list', '--tenat', 'alice']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^berth sessions: unknown flag --tenat\nusage: berth sessions list \| show <id> \| delete <id> /);
    const unknown = await berth(['sesions']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^berth: unknown command "sesions"\n/);
  }, SPAWNS_TIMEOUT_MS);

  test('npx berth runs the CLI through the bin entry (node_modules/.bin/berth)', async () => {
    const run = await new Promise<Run>((resolve) => {
      execFile('npx', ['--no-install', 'berth', '--version'], { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: s.dir }, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }));
    });
    expect(run.stdout).toMatch(/^berth \d+\.\d+\.\d+\n$/);
    expect(run.code).toBe(0);
  }, SPAWNS_TIMEOUT_MS);

  test('token mint --admin mints a working admin token; revoke removes it', async () => {
    const file = path.join(s.dir, 'tenants.yaml');
    const minted = await berth(['token', 'mint', '--admin', '--file', file]);
    expect(minted.code).toBe(0);
    expect(minted.stdout).toMatch(/^berth_[A-Za-z0-9_-]{43}\n$/);
    expect(minted.stderr).toBe(`admin token added to ${file} (shown once; only its hash is stored)\n`);
    const token = minted.stdout.trim();
    // The stack also watches the file: its own reload may have applied the change already.
    expect(['applied', 'unchanged']).toContain((await s.stack.tenants.reload()).kind);
    expect(s.stack.tenants.current().adminTokenHashes).toHaveLength(2);
    const pool = await berth(['pool', '--json'], { BERTH_ADMIN_TOKEN: token });
    expect(pool.code).toBe(0);
    expect((await berth(['token', 'mint', 'alice', '--admin', '--file', file])).code).toBe(2);
    expect((await berth(['token', 'revoke', token, '--file', file])).code).toBe(0);
    expect(['applied', 'unchanged']).toContain((await s.stack.tenants.reload()).kind);
    expect(s.stack.tenants.current().adminTokenHashes).toHaveLength(1);
    const refused = await berth(['pool'], { BERTH_ADMIN_TOKEN: token });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^berth pool: 401 /);
  }, SPAWNS_TIMEOUT_MS);
});
