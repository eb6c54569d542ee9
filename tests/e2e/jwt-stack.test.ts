// A caller holding a JWT (no static token) lists its sessions on a whole stack, with the
// static tokens still working beside it, and a JWT for another issuer refused with 401.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { authHeaders, startTestStack, type TestStack } from '../fixtures/stack.js';
import { makeKey, signToken, type TestKey } from '../fixtures/jwks-server.js';

describe('JWT callers on a stack', () => {
  let key: TestKey;
  let running: TestStack;
  let keyDir: string;

  beforeAll(async () => {
    key = await makeKey('ES256', 'stack-1');
    keyDir = await mkdtemp(path.join(os.tmpdir(), 'berth-jwt-'));
    const keyFile = path.join(keyDir, 'idp.pem');
    await writeFile(keyFile, key.publicPem);
    running = await startTestStack({
      poolSize: 0,
      env: { BERTH_JWT_PUBLIC_KEY_FILE: keyFile, BERTH_JWT_ISSUER: 'https://idp.test', BERTH_JWT_AUDIENCE: 'berth' },
    });
  });

  afterAll(async () => {
    await running?.stop();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  test('a JWT for alice lists sessions; a static token still works; a foreign JWT is refused', async () => {
    const jwt = await signToken(key, { claims: { berth_tenant: 'alice' } });
    const res = await fetch(`${running.url}/sessions`, { headers: authHeaders(jwt) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sessions: [], nextCursor: null });

    const byStatic = await fetch(`${running.url}/sessions`, { headers: authHeaders(running.tokens.bob) });
    expect(byStatic.status).toBe(200);

    const foreign = await signToken(key, { claims: { iss: 'https://evil.test' } });
    const refused = await fetch(`${running.url}/sessions`, { headers: authHeaders(foreign) });
    expect(refused.status).toBe(401);
    await refused.body?.cancel();
  });
});

describe('a JWT deployment without a tenants file', () => {
  let key: TestKey;
  let running: TestStack;
  let keyDir: string;

  beforeAll(async () => {
    key = await makeKey('ES256', 'nofile-1');
    keyDir = await mkdtemp(path.join(os.tmpdir(), 'berth-jwt-nofile-'));
    const keyFile = path.join(keyDir, 'idp.pem');
    await writeFile(keyFile, key.publicPem);
    running = await startTestStack({
      poolSize: 0,
      // The file named here does not exist (nor does its directory): the gateway starts anyway.
      env: { BERTH_TENANTS_FILE: path.join(keyDir, 'absent', 'tenants.yaml'), BERTH_JWT_PUBLIC_KEY_FILE: keyFile, BERTH_JWT_ISSUER: 'https://idp.test', BERTH_JWT_AUDIENCE: 'berth' },
    });
  });

  afterAll(async () => {
    await running?.stop();
    if (keyDir) await rm(keyDir, { recursive: true, force: true });
  });

  test('starts; tenants come from claims with the default profile; tenants stay apart; static tokens and bad names are refused', async () => {
    expect(running.stack.tenants.current().tenants.size).toBe(0);
    const carol = await signToken(key, { claims: { berth_tenant: 'carol' } });
    const dave = await signToken(key, { claims: { berth_tenant: 'dave' } });
    const listed = await fetch(`${running.url}/sessions`, { headers: authHeaders(carol) });
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual({ sessions: [], nextCursor: null });

    // A session carol owns is hers alone: the claim names the tenant, ownership holds as with a file.
    const now = Date.now();
    await running.stack.store.sessions.createSession({ id: 'carols-1', tenant: 'carol', profile: 'default', sandbox: null, sdkSessionId: null, createdAt: now, lastActivityAt: now, turns: 0 });
    const own = await fetch(`${running.url}/sessions/carols-1`, { headers: authHeaders(carol) });
    expect(own.status).toBe(200);
    await own.body?.cancel();
    const other = await fetch(`${running.url}/sessions/carols-1`, { headers: authHeaders(dave) });
    expect(other.status).toBe(403);
    await other.body?.cancel();

    // The default profile: no egress allowlist, no limits, the default agent and sandbox profile.
    expect(running.stack.tenants.current().fromClaims!('carol')).toEqual({ name: 'carol', tokenHashes: [], agent: {}, sandboxProfile: 'default', egress: { allow: [] }, limits: {} });

    for (const token of [running.tokens.alice, await signToken(key, { claims: { berth_tenant: 'Not A Tenant!' } })]) {
      const refused = await fetch(`${running.url}/sessions`, { headers: authHeaders(token) });
      expect(refused.status).toBe(401);
      await refused.body?.cancel();
    }
  });
});
