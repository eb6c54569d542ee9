// The agent image's pure pieces, no process started: the CLI's environment (a security control:
// built from scratch, never the server's own env), the SDK options from a tenant profile, the
// bootstrap validator and the BERTH_AGENT_* config. Lives in e2e only because that is where the
// agent server's tests are; it runs in milliseconds.
import { createHash } from 'node:crypto';
import { expect, test } from 'vitest';
import { BerthSessionStore, buildCliEnv, buildSdkOptions, loadConfig, parseBootstrap, type SdkInputs } from '@berth/agent-image';

const dirs = { root: '/d', home: '/d/home', config: '/d/config', tmp: '/d/tmp', work: '/d/work' };
const base: SdkInputs = { profile: {}, model: { baseUrl: 'http://10.0.0.5:8081/model', apiKey: 'cred' }, dirs, path: '/usr/bin:/bin', isRoot: false };

test('the CLI env holds exactly what berth sets, nothing inherited', () => {
  process.env.AGENT_AUTH_TOKEN = 'must-not-leak';
  try {
    expect(buildCliEnv(base)).toEqual({
      PATH: '/usr/bin:/bin', HOME: '/d/home', CLAUDE_CONFIG_DIR: '/d/config', TMPDIR: '/d/tmp',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', ANTHROPIC_BASE_URL: 'http://10.0.0.5:8081/model', ANTHROPIC_API_KEY: 'cred',
      CLAUDE_AGENT_SDK_CLIENT_APP: 'berth-agent/0.1.0',
    });
  } finally {
    delete process.env.AGENT_AUTH_TOKEN;
  }
});

test('egress sets upper- and lowercase proxy variables; NO_PROXY always names the model host', () => {
  const env = buildCliEnv({ ...base, egress: { proxyUrl: 'http://u:p@10.0.0.5:8081', noProxy: ['localhost'] }, maxRetries: 2 });
  for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy']) expect(env[name]).toBe('http://u:p@10.0.0.5:8081');
  expect(env.NO_PROXY).toBe('10.0.0.5,localhost');
  expect(env.no_proxy).toBe('10.0.0.5,localhost');
  expect(env.CLAUDE_CODE_MAX_RETRIES).toBe('2');
});

test('IS_SANDBOX only for bypassPermissions as root', () => {
  expect(buildCliEnv({ ...base, profile: { permissionMode: 'bypassPermissions' }, isRoot: true }).IS_SANDBOX).toBe('1');
  expect(buildCliEnv({ ...base, profile: { permissionMode: 'bypassPermissions' }, isRoot: false }).IS_SANDBOX).toBeUndefined();
  expect(buildCliEnv({ ...base, profile: { permissionMode: 'default' }, isRoot: true }).IS_SANDBOX).toBeUndefined();
});

test('SDK options follow the profile, with the session store and resume', () => {
  const store = new BerthSessionStore();
  const abortController = new AbortController();
  const options = buildSdkOptions({ ...base, profile: { model: 'm1', systemPrompt: 'be brief', allowedTools: ['Bash'], maxTurns: 3, permissionMode: 'bypassPermissions' }, sessionStore: store, abortController, resume: 'abc' });
  expect(options).toMatchObject({ cwd: '/d/work', model: 'm1', systemPrompt: 'be brief', allowedTools: ['Bash'], maxTurns: 3, permissionMode: 'bypassPermissions', allowDangerouslySkipPermissions: true, resume: 'abc', settingSources: [] });
  expect(options.sessionStore).toBe(store);
  expect(options.abortController).toBe(abortController);
  expect(buildSdkOptions({ ...base, sessionStore: store, abortController }).resume).toBeUndefined();
});

test('session store: load serves handed-over entries plus appends, deduplicated on uuid, under its projectKey; batches reach the sink', async () => {
  // The handed-over transcript is kept under the store's own projectKey (the tenant's), the key
  // the SDK's load() asks for; another projectKey is another namespace.
  const store = new BerthSessionStore([{ sdkSessionId: 's', subpath: '', entry: { type: 'user', uuid: 'u1' } }, { sdkSessionId: 's', subpath: 'subagents/agent-1', entry: { type: 'user', uuid: 'x' } }], 'p');
  const seen: unknown[] = [];
  await store.append({ projectKey: 'p', sessionId: 's' }, [{ type: 'assistant', uuid: 'u2' }]);
  store.attach((batch) => (seen.push(batch), true));
  await store.append({ projectKey: 'p', sessionId: 's' }, [{ type: 'user', uuid: 'u1' }, { type: 'cost-state' }]);
  store.detach();
  expect(seen).toEqual([
    { sdkSessionId: 's', subpath: '', entries: [{ type: 'assistant', uuid: 'u2' }] },
    { sdkSessionId: 's', subpath: '', entries: [{ type: 'user', uuid: 'u1' }, { type: 'cost-state' }], keys: ['u1', expect.stringMatching(/^s::[0-9a-f]{8}-1:1$/)] },
  ]);
  expect((await store.load({ projectKey: 'p', sessionId: 's' }))?.map((e) => e.uuid ?? e.type)).toEqual(['u1', 'u2', 'cost-state']);
  expect(await store.load({ projectKey: 'other', sessionId: 's' })).toBeNull();
  expect(await store.load({ projectKey: 'p', sessionId: 'nope' })).toBeNull();
  expect(await store.listSubkeys({ projectKey: 'p', sessionId: 's' })).toEqual(['subagents/agent-1']);
});

test('bootstrap validation names every bad field and never echoes values', () => {
  const bad = parseBootstrap({ sessionId: '../x', tenant: '', profile: { maxTurns: 0, permissionMode: 'yolo' }, model: { baseUrl: 'ftp://x', apiKey: 'sk-secret' } });
  expect(bad.kind).toBe('invalid');
  const detail = bad.kind === 'invalid' ? bad.detail : '';
  for (const field of ['sessionId', 'tenant', 'profile.maxTurns', 'profile.permissionMode', 'model']) expect(detail).toContain(field);
  expect(detail).not.toContain('sk-secret');
  expect(parseBootstrap({ sessionId: 's', tenant: 't', profile: {}, model: { baseUrl: 'http://127.0.0.1:1', apiKey: 'k' } }).kind).toBe('ok');
});

test('config: defaults, and every invalid variable reported at once', () => {
  const ok = loadConfig({});
  expect(ok).toEqual({ ok: true, config: { mode: 'serve', host: '0.0.0.0', port: 8000, authTokenSha256: null, dataDir: undefined, prestart: true, standbyProfile: {}, maxRetries: undefined, maxBodyBytes: 262144, maxBufferedBytes: 64 * 1024 * 1024 } });
  expect(loadConfig({}, ['run-once'])).toMatchObject({ ok: true, config: { mode: 'run-once' } });
  const bad = loadConfig({ BERTH_AGENT_PORT: '70000', BERTH_AGENT_PRESTART: 'yes', BERTH_AGENT_MAX_RETRIES: '-1', BERTH_AGENT_MODE: 'daemon', BERTH_AGENT_STANDBY_PROFILE: '{"maxTurns":0', BERTH_EGRESS_URL: 'ftp://egress:8081' });
  expect(bad.ok).toBe(false);
  expect(bad.ok ? [] : bad.errors.map((e) => e.split(' ')[0]).sort()).toEqual(['BERTH_AGENT_MAX_RETRIES', 'BERTH_AGENT_MODE', 'BERTH_AGENT_PORT', 'BERTH_AGENT_PRESTART', 'BERTH_AGENT_STANDBY_PROFILE', 'BERTH_EGRESS_URL']);
  // The egress gateway's URL: http(s), and never with credentials in it (the key is the sandbox's own).
  expect(loadConfig({ BERTH_EGRESS_URL: 'http://berth-egress.berth:8081' })).toMatchObject({ ok: true, config: { egressUrl: 'http://berth-egress.berth:8081' } });
  expect(loadConfig({ BERTH_EGRESS_URL: 'http://u:p@berth-egress.berth:8081' })).toEqual({ ok: false, errors: ['BERTH_EGRESS_URL must be an http(s) URL without credentials'] });
  expect(loadConfig({ BERTH_AGENT_STANDBY_PROFILE: '{"maxTurns":0}' })).toEqual({ ok: false, errors: ['BERTH_AGENT_STANDBY_PROFILE.maxTurns must be a positive integer'] });
  expect(loadConfig({ BERTH_AGENT_STANDBY_PROFILE: '{"systemPrompt":"p","allowedTools":["Bash"]}' })).toMatchObject({ ok: true, config: { standbyProfile: { systemPrompt: 'p', allowedTools: ['Bash'] } } });
});

test('config: the token digest comes from AGENT_AUTH_TOKEN, else AGENT_AUTH_TOKEN_SHA256 (pods hold only the hash)', () => {
  const digest = createHash('sha256').update('tok').digest();
  const fromToken = loadConfig({ AGENT_AUTH_TOKEN: 'tok' });
  const fromHash = loadConfig({ AGENT_AUTH_TOKEN_SHA256: digest.toString('hex') });
  expect(fromToken.ok && fromToken.config.authTokenSha256?.equals(digest)).toBe(true);
  expect(fromHash.ok && fromHash.config.authTokenSha256?.equals(digest)).toBe(true);
  expect(loadConfig({ AGENT_AUTH_TOKEN_SHA256: 'abc' })).toEqual({ ok: false, errors: ['AGENT_AUTH_TOKEN_SHA256 must be 64 hex digits'] });
});
