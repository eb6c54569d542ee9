// Pins gateway/src/egress/proxy-auth.ts: where the credential is read from (Proxy-Authorization
// Basic/Bearer, x-api-key, Authorization: Bearer), and the store's revocation check: refused
// after release, after the session moved to another sandbox, for another tenant, for a deleted
// session or an unknown tenant; the optional source check. A sandbox's own egress key: refused
// until the claim binds its hash, honoured for the binding's session only, refused after release,
// after the session moved on, and for a deleted session; never checked as a JWT.
import { beforeEach, describe, expect, test } from 'vitest';
import { createMemoryStore, type Store } from '@berth/gateway';
import { createSessionCredentials } from '@berth/gateway/credentials';
import { createProxyAuthenticator, modelCredential, proxyCredential, sourceMatchesBinding } from '@berth/gateway/egress';
import { compileAllowlist } from '@berth/gateway/policy';
import type { SandboxBinding } from '@berth/gateway';
import { egressKeySha256, newEgressKey } from '@berth/protocol';

const keys = [{ kid: 'k', secret: new Uint8Array(32).fill(9) }] as const;
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

function binding(sandboxId: string, url = 'http://127.0.0.1:9000'): SandboxBinding {
  return { sandboxId, url, authToken: 'agent-token', profile: 'default', claimedAt: 0 };
}

async function bind(store: Store, sessionId: string, tenant: string, sandbox: SandboxBinding | null): Promise<void> {
  await store.sessions.createSession({ id: sessionId, tenant, profile: 'default', sandbox: null, sdkSessionId: null, createdAt: 0, lastActivityAt: 0, turns: 0 });
  const lock = (await store.bindings.acquireLock(sessionId, 10_000))!;
  await store.bindings.setSandbox(sessionId, sandbox, lock);
  await store.bindings.releaseLock(sessionId, lock);
}

describe('credential extraction', () => {
  test('proxy: Basic password (user ignored), Basic user when the password is empty, Bearer', () => {
    expect(proxyCredential({ 'proxy-authorization': basic('berth', 'tok.en.x') })).toBe('tok.en.x');
    expect(proxyCredential({ 'proxy-authorization': basic('tok.en.y', '') })).toBe('tok.en.y');
    expect(proxyCredential({ 'proxy-authorization': 'Bearer tok.en.z' })).toBe('tok.en.z');
    expect(proxyCredential({ 'proxy-authorization': 'Digest abc' })).toBeNull();
    expect(proxyCredential({})).toBeNull();
    // x-api-key is not a proxy credential: the forward proxy only reads Proxy-Authorization.
    expect(proxyCredential({ 'x-api-key': 'tok.en.x' })).toBeNull();
  });

  test('model: x-api-key first, then Authorization: Bearer', () => {
    expect(modelCredential({ 'x-api-key': 'a.b.c', authorization: 'Bearer d.e.f' })).toBe('a.b.c');
    expect(modelCredential({ authorization: 'Bearer d.e.f' })).toBe('d.e.f');
    expect(modelCredential({ authorization: 'Basic xyz' })).toBeNull();
    expect(modelCredential({ 'proxy-authorization': 'Bearer a.b.c' })).toBeNull();
  });
});

describe('createProxyAuthenticator', () => {
  const credentials = createSessionCredentials({ keys });
  const policy = { allowlist: compileAllowlist(['example.com']) };
  let store: Store;
  beforeEach(() => {
    store = createMemoryStore();
  });
  const authenticate = (extra: Partial<Parameters<typeof createProxyAuthenticator>[0]> = {}) =>
    createProxyAuthenticator({ credentials, store, tenants: (name) => (name === 'alice' || name === 'bob' ? policy : undefined), ...extra });

  test('a live credential authenticates on both doors', async () => {
    await bind(store, 's1', 'alice', binding('sbx-1'));
    const { token } = await credentials.mint({ tenant: 'alice', sessionId: 's1', sandboxId: 'sbx-1' });
    expect(await authenticate()({ 'proxy-authorization': basic('berth', token) }, 'proxy', '127.0.0.1')).toEqual({
      ok: true,
      principal: { tenant: 'alice', sessionId: 's1', sandboxId: 'sbx-1', policy },
    });
    expect((await authenticate()({ 'x-api-key': token }, 'model', '127.0.0.1')).ok).toBe(true);
  });

  test('a credential minted for a sandbox is refused until its binding is stored, and again after release', async () => {
    // The gateway mints at claim, then bootstraps, then binds: a sandbox holding a minted
    // credential (a standby being bootstrapped) cannot use it until the store binds it.
    await bind(store, 's1', 'alice', null);
    const { token } = await credentials.mint({ tenant: 'alice', sessionId: 's1', sandboxId: 'sbx-1' });
    expect(await authenticate()({ 'x-api-key': token }, 'model', undefined)).toEqual({ ok: false, reason: 'credential_revoked' });
    expect(await authenticate()({ 'proxy-authorization': basic('berth', token) }, 'proxy', undefined)).toEqual({ ok: false, reason: 'credential_revoked' });
    const lock = (await store.bindings.acquireLock('s1', 1000))!;
    await store.bindings.setSandbox('s1', binding('sbx-1'), lock);
    expect((await authenticate()({ 'x-api-key': token }, 'model', undefined)).ok).toBe(true);
    await store.bindings.clearSandbox('s1', 'sbx-1');
    expect(await authenticate()({ 'x-api-key': token }, 'model', undefined)).toEqual({ ok: false, reason: 'credential_revoked' });
    expect(await authenticate()({ 'proxy-authorization': basic('berth', token) }, 'proxy', undefined)).toEqual({ ok: false, reason: 'credential_revoked' });
  });

  test('missing and invalid credentials', async () => {
    expect(await authenticate()({}, 'proxy', undefined)).toEqual({ ok: false, reason: 'credential_missing' });
    expect(await authenticate()({ 'x-api-key': 'sk-ant-real-looking' }, 'model', undefined)).toEqual({ ok: false, reason: 'credential_invalid' });
  });

  test('refused after release (binding cleared), and after the session moved to another sandbox', async () => {
    await bind(store, 's1', 'alice', binding('sbx-1'));
    const { token } = await credentials.mint({ tenant: 'alice', sessionId: 's1', sandboxId: 'sbx-1' });
    await store.bindings.clearSandbox('s1', 'sbx-1');
    expect(await authenticate()({ 'x-api-key': token }, 'model', undefined)).toEqual({ ok: false, reason: 'credential_revoked' });
    const lock = (await store.bindings.acquireLock('s1', 1000))!;
    await store.bindings.setSandbox('s1', binding('sbx-2'), lock);
    expect(await authenticate()({ 'x-api-key': token }, 'model', undefined)).toEqual({ ok: false, reason: 'credential_revoked' });
  });

  test('refused for a deleted session', async () => {
    await bind(store, 's1', 'alice', binding('sbx-1'));
    const { token } = await credentials.mint({ tenant: 'alice', sessionId: 's1', sandboxId: 'sbx-1' });
    await store.sessions.deleteSession('s1');
    expect(await authenticate()({ 'x-api-key': token }, 'model', undefined)).toEqual({ ok: false, reason: 'credential_revoked' });
  });

  test('a credential naming another tenant than the session owner is refused', async () => {
    await bind(store, 's1', 'alice', binding('sbx-1'));
    const { token } = await credentials.mint({ tenant: 'bob', sessionId: 's1', sandboxId: 'sbx-1' });
    expect(await authenticate()({ 'x-api-key': token }, 'model', undefined)).toEqual({ ok: false, reason: 'credential_revoked' });
  });

  test('a tenant removed from config loses access', async () => {
    await bind(store, 's1', 'carol', binding('sbx-1'));
    const { token } = await credentials.mint({ tenant: 'carol', sessionId: 's1', sandboxId: 'sbx-1' });
    expect(await authenticate()({ 'x-api-key': token }, 'model', undefined)).toEqual({ ok: false, reason: 'tenant_unknown' });
  });

  test('an unreachable store is store_unavailable, not a refusal', async () => {
    const { token } = await credentials.mint({ tenant: 'alice', sessionId: 's1', sandboxId: 'sbx-1' });
    store.sessions.getSession = async () => {
      throw new Error('ECONNREFUSED');
    };
    expect(await authenticate()({ 'x-api-key': token }, 'model', undefined)).toEqual({ ok: false, reason: 'store_unavailable' });
  });

  test('with checkSource, a request from another address than the bound sandbox is refused', async () => {
    await bind(store, 's1', 'alice', binding('sbx-1', 'http://10.1.2.3:8000'));
    const { token } = await credentials.mint({ tenant: 'alice', sessionId: 's1', sandboxId: 'sbx-1' });
    const auth = authenticate({ checkSource: sourceMatchesBinding });
    expect((await auth({ 'x-api-key': token }, 'model', '10.1.2.3')).ok).toBe(true);
    expect((await auth({ 'x-api-key': token }, 'model', '::ffff:10.1.2.3')).ok).toBe(true);
    expect(await auth({ 'x-api-key': token }, 'model', '10.1.2.4')).toEqual({ ok: false, reason: 'source_mismatch' });
  });

  describe("a sandbox's own egress key", () => {
    const keyed = (sandboxId: string, key: string): SandboxBinding => ({ ...binding(sandboxId), egressKeySha256: egressKeySha256(key) });
    const asModel = (key: string) => authenticate()({ 'x-api-key': key }, 'model', undefined);
    const asProxy = (key: string) => authenticate()({ 'proxy-authorization': basic('berth', key) }, 'proxy', undefined);

    test('refused before its claim binds it, honoured on both doors while bound, refused after release', async () => {
      const key = newEgressKey();
      await bind(store, 's1', 'alice', null);
      // A standby's key: no session binds it yet.
      expect(await asModel(key)).toEqual({ ok: false, reason: 'credential_revoked' });
      expect(await asProxy(key)).toEqual({ ok: false, reason: 'credential_revoked' });
      const lock = (await store.bindings.acquireLock('s1', 1000))!;
      await store.bindings.setSandbox('s1', keyed('sbx-1', key), lock);
      const principal = { tenant: 'alice', sessionId: 's1', sandboxId: 'sbx-1', policy };
      expect(await asModel(key)).toEqual({ ok: true, principal });
      expect(await asProxy(key)).toEqual({ ok: true, principal });
      await store.bindings.clearSandbox('s1', 'sbx-1');
      expect(await asModel(key)).toEqual({ ok: false, reason: 'credential_revoked' });
      expect(await asProxy(key)).toEqual({ ok: false, reason: 'credential_revoked' });
    });

    test("each key is its own session's: another sandbox's key, a moved session and a deleted one are refused", async () => {
      const [a, b, c] = [newEgressKey(), newEgressKey(), newEgressKey()];
      await bind(store, 's1', 'alice', keyed('sbx-1', a));
      await bind(store, 's2', 'bob', keyed('sbx-2', b));
      expect(await asModel(a)).toMatchObject({ ok: true, principal: { tenant: 'alice', sessionId: 's1' } });
      expect(await asModel(b)).toMatchObject({ ok: true, principal: { tenant: 'bob', sessionId: 's2' } });
      // s1 moves to a new sandbox with its own key: the old one is dead.
      const lock = (await store.bindings.acquireLock('s1', 1000))!;
      await store.bindings.setSandbox('s1', keyed('sbx-3', c), lock);
      expect(await asModel(a)).toEqual({ ok: false, reason: 'credential_revoked' });
      expect(await asModel(c)).toMatchObject({ ok: true, principal: { sessionId: 's1', sandboxId: 'sbx-3' } });
      await store.sessions.deleteSession('s2');
      expect(await asModel(b)).toEqual({ ok: false, reason: 'credential_revoked' });
    });

    test('a key is looked up, never verified as a JWT; an unreachable store is store_unavailable', async () => {
      let verified = 0;
      const counting = { ...credentials, verify: async (token: string) => (verified++, credentials.verify(token)) };
      expect(await authenticate({ credentials: counting })({ 'x-api-key': newEgressKey() }, 'model', undefined)).toEqual({ ok: false, reason: 'credential_revoked' });
      expect(verified).toBe(0);
      store.bindings.sessionForEgressKey = async () => {
        throw new Error('ECONNREFUSED');
      };
      expect(await asModel(newEgressKey())).toEqual({ ok: false, reason: 'store_unavailable' });
    });
  });
});
