// JWTAuthenticator and CompositeAuthenticator: every refusal the issue lists, acceptance with RS256
// and ES256, and the JWKS cases against a loopback JWKS server (rotation refetch, the cooldown
// bound, an endpoint that is down or never answers fails closed).

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { base64url, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { JWTAuthenticator, type JWTAuthenticatorOptions, type JWTKeySource } from '@berth/gateway/auth';
import { CompositeAuthenticator, isJwtShaped } from '@berth/gateway/auth';
import { StaticTokenAuthenticator } from '@berth/gateway/auth';
import { ConfigError, loadConfig } from '@berth/gateway/testing';
import { hashToken, parseTenants } from '@berth/gateway/tenants';
import { makeKey, signToken, startJwksServer, type JwksServer, type TestKey } from '../fixtures/jwks-server.js';

const directory = parseTenants(`
tenants:
  alice:
    tokenHashes: ["${hashToken('alice-static-token')}"]
  bob:
    tokenHashes: []
admins:
  tokenHashes: []
`);

let rsa: TestKey;
let ec: TestKey;
let stranger: TestKey;

beforeAll(async () => {
  rsa = await makeKey('RS256', 'rsa-1');
  ec = await makeKey('ES256', 'ec-1');
  stranger = await makeKey('RS256', 'stranger');
});

function authenticator(keySource: JWTKeySource, extra: Partial<JWTAuthenticatorOptions> = {}): JWTAuthenticator {
  return new JWTAuthenticator({ keySource, issuer: 'https://idp.test', audience: 'berth', tenants: () => directory, ...extra });
}

const local = (text: string): JWTKeySource => ({ kind: 'local', text });
const ok = (tenant: string) => ({ kind: 'ok', principal: { kind: 'tenant', tenant } });
const refused = { kind: 'refused', reason: 'invalid' };

describe('JWTAuthenticator with a local key', () => {
  test('accepts RS256 (PEM) and ES256 (JWK) tokens and maps the tenant claim', async () => {
    expect(await authenticator(local(rsa.publicPem)).authenticate(await signToken(rsa))).toEqual(ok('alice'));
    const byJwk = authenticator(local(JSON.stringify(ec.publicJwk)));
    expect(await byJwk.authenticate(await signToken(ec, { claims: { berth_tenant: 'bob' } }))).toEqual(ok('bob'));
  });

  test('reads the tenant from a configured claim; an unknown or missing tenant is refused', async () => {
    const custom = authenticator(local(rsa.publicPem), { tenantClaim: 'org' });
    expect(await custom.authenticate(await signToken(rsa, { claims: { org: 'bob' } }))).toEqual(ok('bob'));
    expect(await custom.authenticate(await signToken(rsa))).toEqual(refused); // only berth_tenant set
    const auth = authenticator(local(rsa.publicPem));
    expect(await auth.authenticate(await signToken(rsa, { claims: { berth_tenant: 'mallory' } }))).toEqual(refused);
    expect(await auth.authenticate(await signToken(rsa, { claims: { berth_tenant: 42 } }))).toEqual(refused);
  });

  test("refuses alg 'none'", async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const now = Math.floor(Date.now() / 1000);
    const payload = base64url.encode(JSON.stringify({ iss: 'https://idp.test', aud: 'berth', exp: now + 300, berth_tenant: 'alice' }));
    expect(await authenticator(local(rsa.publicPem)).authenticate(`${header}.${payload}.`)).toEqual(refused);
  });

  test('refuses an RS256 token re-signed as HS256 with the public key', async () => {
    const forged = await new SignJWT({ iss: 'https://idp.test', aud: 'berth', berth_tenant: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(rsa.publicPem));
    expect(await authenticator(local(rsa.publicPem)).authenticate(forged)).toEqual(refused);
    // Even an operator cannot allow it: HS* and 'none' are rejected at construction.
    expect(() => authenticator(local(rsa.publicPem), { algorithms: ['RS256', 'HS256'] })).toThrow(/algorithms/);
    expect(() => authenticator(local(rsa.publicPem), { algorithms: ['none'] })).toThrow(/algorithms/);
  });

  test('refuses a missing exp, and an exp past beyond the clock tolerance (accepted within it)', async () => {
    const auth = authenticator(local(rsa.publicPem));
    expect(await auth.authenticate(await signToken(rsa, { expInS: null }))).toEqual(refused);
    expect(await auth.authenticate(await signToken(rsa, { expInS: -10 }))).toEqual(ok('alice')); // within 30 s
    expect(await auth.authenticate(await signToken(rsa, { expInS: -60 }))).toEqual(refused);
    const strict = authenticator(local(rsa.publicPem), { clockToleranceS: 0 });
    expect(await strict.authenticate(await signToken(rsa, { expInS: -10 }))).toEqual(refused);
  });

  test('the injected clock decides expiry', async () => {
    const token = await signToken(rsa, { expInS: 300 });
    const later = authenticator(local(rsa.publicPem), { now: () => Date.now() + 3_600_000 });
    expect(await later.authenticate(token)).toEqual(refused);
  });

  test('refuses a future nbf beyond the tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    const auth = authenticator(local(rsa.publicPem));
    expect(await auth.authenticate(await signToken(rsa, { claims: { nbf: now + 300 } }))).toEqual(refused);
    expect(await auth.authenticate(await signToken(rsa, { claims: { nbf: now + 5 } }))).toEqual(ok('alice'));
  });

  test('refuses a wrong iss or aud, and a token signed by another key', async () => {
    const auth = authenticator(local(rsa.publicPem));
    expect(await auth.authenticate(await signToken(rsa, { claims: { iss: 'https://evil.test' } }))).toEqual(refused);
    expect(await auth.authenticate(await signToken(rsa, { claims: { aud: 'someone-else' } }))).toEqual(refused);
    expect(await auth.authenticate(await signToken(stranger, { kid: null }))).toEqual(refused);
  });

  test('refuses an algorithm outside the allowlist', async () => {
    const rsOnly = authenticator(local(JSON.stringify({ keys: [rsa.publicJwk, ec.publicJwk] })), { algorithms: ['RS256'] });
    expect(await rsOnly.authenticate(await signToken(rsa))).toEqual(ok('alice'));
    expect(await rsOnly.authenticate(await signToken(ec))).toEqual(refused);
  });

  test('a local JWK set refuses a kid it does not hold', async () => {
    const auth = authenticator(local(JSON.stringify({ keys: [rsa.publicJwk] })));
    expect(await auth.authenticate(await signToken(rsa, { kid: 'rotated-away' }))).toEqual(refused);
  });

  test('rejects private, symmetric and unparseable key files', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = JSON.stringify(await exportJWK(pair.privateKey));
    expect(() => authenticator(local(privateJwk))).toThrow(/public keys only/);
    expect(() => authenticator(local(JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' })))).toThrow(/public keys only/);
    expect(() => authenticator(local('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'))).toThrow(/PUBLIC KEY/);
    expect(() => authenticator(local('not a key'))).toThrow(/PEM public key/);
  });
});

describe('JWTAuthenticator with a JWKS URL', () => {
  let jwks: JwksServer;
  beforeAll(async () => {
    jwks = await startJwksServer([rsa.publicJwk, ec.publicJwk]);
  });
  afterAll(() => jwks.close());

  test('fetches once, caches, accepts RS256 and ES256, refuses an unknown kid', async () => {
    jwks.setKeys([rsa.publicJwk, ec.publicJwk]);
    const before = jwks.fetches;
    const auth = authenticator({ kind: 'jwks', url: jwks.url, timeoutMs: 2000, cooldownMs: 60_000 });
    expect(await auth.authenticate(await signToken(rsa))).toEqual(ok('alice'));
    expect(await auth.authenticate(await signToken(ec))).toEqual(ok('alice'));
    expect(jwks.fetches - before).toBe(1);
    expect(await auth.authenticate(await signToken(stranger))).toEqual(refused);
    // Within the cooldown an unknown kid does not refetch: random kids cannot amplify into fetches.
    expect(await auth.authenticate(await signToken(stranger, { kid: 'another' }))).toEqual(refused);
    expect(jwks.fetches - before).toBe(1);
  });

  test('a rotated-in kid is picked up by one refetch once the cooldown allows it', async () => {
    jwks.setKeys([rsa.publicJwk]);
    const before = jwks.fetches;
    const auth = authenticator({ kind: 'jwks', url: jwks.url, timeoutMs: 2000, cooldownMs: 0 });
    expect(await auth.authenticate(await signToken(rsa))).toEqual(ok('alice'));
    expect(await auth.authenticate(await signToken(ec))).toEqual(refused); // ec-1 not published yet
    jwks.setKeys([rsa.publicJwk, ec.publicJwk]);
    const beforeRotation = jwks.fetches;
    expect(await auth.authenticate(await signToken(ec))).toEqual(ok('alice'));
    expect(jwks.fetches - beforeRotation).toBe(1);
    expect(await auth.authenticate(await signToken(rsa))).toEqual(ok('alice')); // cached, no fetch
    expect(jwks.fetches - beforeRotation).toBe(1);
    expect(jwks.fetches - before).toBeGreaterThanOrEqual(3);
  });

  test('an endpoint that never answers fails closed with the JWKS timeout', async () => {
    const hung = await startJwksServer([rsa.publicJwk]);
    hung.hang = true;
    const failures: unknown[] = [];
    try {
      const auth = authenticator({ kind: 'jwks', url: hung.url, timeoutMs: 200 }, { onKeySourceError: (e) => failures.push(e) });
      expect(await auth.authenticate(await signToken(rsa))).toEqual(refused);
      expect(hung.fetches).toBe(1);
      expect(failures).toHaveLength(1);
      expect((failures[0] as { code?: string }).code).toBe('ERR_JWKS_TIMEOUT');
    } finally {
      await hung.close();
    }
  });

  test('an endpoint that is down fails closed and is reported', async () => {
    const gone = await startJwksServer([rsa.publicJwk]);
    const url = gone.url;
    await gone.close();
    const failures: unknown[] = [];
    const auth = authenticator({ kind: 'jwks', url, timeoutMs: 2000 }, { onKeySourceError: (e) => failures.push(e) });
    expect(await auth.authenticate(await signToken(rsa))).toEqual(refused);
    expect(failures).toHaveLength(1);
  });
});

describe('CompositeAuthenticator', () => {
  test('routes three-part tokens to JWT and everything else to static tokens', async () => {
    const composite = new CompositeAuthenticator(new StaticTokenAuthenticator(() => directory), authenticator(local(rsa.publicPem)));
    expect(await composite.authenticate('alice-static-token')).toEqual(ok('alice'));
    expect(await composite.authenticate(await signToken(rsa, { claims: { berth_tenant: 'bob' } }))).toEqual(ok('bob'));
    expect(await composite.authenticate('not-a-token')).toEqual(refused);
    expect(await composite.authenticate('a.b.c')).toEqual(refused);
    expect(await composite.authenticate('')).toEqual({ kind: 'refused', reason: 'missing' });
    expect(isJwtShaped('a.b.')).toBe(true);
    expect(isJwtShaped('alice-static-token')).toBe(false);
    expect(isJwtShaped('a.b.c.d')).toBe(false);
  });
});

describe('BERTH_JWT_* configuration', () => {
  const problemsOf = (env: Record<string, string>): string => {
    try {
      loadConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems.join('\n');
    }
    throw new Error('loadConfig accepted a bad configuration');
  };

  test('no key source = no JWT config; defaults when one is set', () => {
    expect(loadConfig({}).jwt).toBeUndefined();
    expect(loadConfig({ BERTH_JWT_JWKS_URL: 'https://idp.test/jwks', BERTH_JWT_ISSUER: 'https://idp.test', BERTH_JWT_AUDIENCE: 'berth' }).jwt).toEqual({
      jwksUrl: 'https://idp.test/jwks',
      publicKeyFile: undefined,
      issuer: 'https://idp.test',
      audience: 'berth',
      algorithms: ['RS256', 'ES256'],
      tenantClaim: 'berth_tenant',
      jwksTimeoutMs: 2000,
      clockToleranceS: 30,
    });
  });

  test('issuer and audience are required with a key source; every problem is reported at once', () => {
    const problems = problemsOf({ BERTH_JWT_PUBLIC_KEY_FILE: '/k.pem', BERTH_JWT_ALGORITHMS: 'RS256,HS256,none', BERTH_JWT_JWKS_TIMEOUT_MS: 'soon' });
    expect(problems).toMatch(/BERTH_JWT_ISSUER is required/);
    expect(problems).toMatch(/BERTH_JWT_AUDIENCE is required/);
    expect(problems).toMatch(/BERTH_JWT_ALGORITHMS="RS256,HS256,none" must be a comma list of/);
    expect(problems).toMatch(/BERTH_JWT_JWKS_TIMEOUT_MS="soon" must be an integer/);
  });

  test('one key source only, and issuer without a key source is reported', () => {
    expect(problemsOf({ BERTH_JWT_PUBLIC_KEY_FILE: '/k.pem', BERTH_JWT_JWKS_URL: 'https://idp.test/jwks', BERTH_JWT_ISSUER: 'i', BERTH_JWT_AUDIENCE: 'a' })).toMatch(/only one of/);
    expect(problemsOf({ BERTH_JWT_ISSUER: 'i' })).toMatch(/no key source/);
  });
});
