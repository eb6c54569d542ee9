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
    expect(await res.json()).toEqual({ sessions: [] });

    const byStatic = await fetch(`${running.url}/sessions`, { headers: authHeaders(running.tokens.bob) });
    expect(byStatic.status).toBe(200);

    const foreign = await signToken(key, { claims: { iss: 'https://evil.test' } });
    const refused = await fetch(`${running.url}/sessions`, { headers: authHeaders(foreign) });
    expect(refused.status).toBe(401);
    await refused.body?.cancel();
  });
});
