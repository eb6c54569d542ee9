// Pins gateway/src/credentials/credentials.ts: a minted credential verifies to its tenant,
// session and sandbox; it is refused after expiry, with a tampered payload, with an unknown kid,
// with another algorithm; rotation verifies old keys while the first key signs.
import { describe, expect, test } from 'vitest';
import { SignJWT } from 'jose';
import { createSessionCredentials } from '@berth/gateway/credentials';
import type { CredentialKeys } from '@berth/gateway/credentials';

const keyA = { kid: 'a', secret: new Uint8Array(32).fill(1) };
const keyB = { kid: 'b', secret: new Uint8Array(32).fill(2) };
const subject = { tenant: 'alice', sessionId: 'demo-1', sandboxId: 'sbx-1' };

function clock(startMs: number) {
  let now = startMs;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('session credentials', () => {
  test('mint then verify returns the bound tenant, session, sandbox, expiry and kid', async () => {
    const c = clock(1_700_000_000_000);
    const creds = createSessionCredentials({ keys: [keyA], now: c.now, ttlS: 600 });
    const minted = await creds.mint(subject);
    expect(minted.expiresAt).toBe(1_700_000_600_000);
    expect(await creds.verify(minted.token)).toEqual({ ok: true, claims: { ...subject, expiresAt: 1_700_000_600_000, kid: 'a' } });
  });

  test('refused after expiry (beyond the clock tolerance), accepted just before', async () => {
    const c = clock(1_700_000_000_000);
    const creds = createSessionCredentials({ keys: [keyA], now: c.now, ttlS: 60, clockToleranceS: 5 });
    const { token } = await creds.mint(subject);
    c.advance(64_000);
    expect((await creds.verify(token)).ok).toBe(true);
    c.advance(2_000);
    expect(await creds.verify(token)).toEqual({ ok: false, reason: 'expired' });
  });

  test('a tampered payload fails the signature', async () => {
    const creds = createSessionCredentials({ keys: [keyA] });
    const { token } = await creds.mint(subject);
    const [h, p, s] = token.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    payload.ten = 'mallory';
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    expect(await creds.verify(forged)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  test('rotation: the first key signs, every key verifies; a dropped key stops verifying', async () => {
    const old = createSessionCredentials({ keys: [keyA] });
    const rotated = createSessionCredentials({ keys: [keyB, keyA] as CredentialKeys });
    const oldToken = (await old.mint(subject)).token;
    const newToken = (await rotated.mint(subject)).token;
    expect(await rotated.verify(oldToken)).toMatchObject({ ok: true, claims: { kid: 'a' } });
    expect(await rotated.verify(newToken)).toMatchObject({ ok: true, claims: { kid: 'b' } });
    const dropped = createSessionCredentials({ keys: [keyB] });
    expect(await dropped.verify(oldToken)).toEqual({ ok: false, reason: 'unknown_key' });
  });

  test('a token signed with the right secret but the wrong issuer, audience or claims is refused', async () => {
    const creds = createSessionCredentials({ keys: [keyA] });
    const base = () => new SignJWT({ ten: 'alice', sid: 's', sbx: 'x' }).setProtectedHeader({ alg: 'HS256', kid: 'a' }).setIssuedAt().setExpirationTime('1h');
    const wrongAud = await base().setIssuer('berth-gateway').setAudience('someone-else').sign(keyA.secret);
    expect(await creds.verify(wrongAud)).toEqual({ ok: false, reason: 'invalid_claims' });
    const noTenant = await new SignJWT({ sid: 's', sbx: 'x' })
      .setProtectedHeader({ alg: 'HS256', kid: 'a' }).setIssuer('berth-gateway').setAudience('berth-egress').setIssuedAt().setExpirationTime('1h')
      .sign(keyA.secret);
    expect(await creds.verify(noTenant)).toEqual({ ok: false, reason: 'invalid_claims' });
  });

  test('alg none and garbage are malformed', async () => {
    const creds = createSessionCredentials({ keys: [keyA] });
    const header = Buffer.from(JSON.stringify({ alg: 'none', kid: 'a' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ ten: 'alice', sid: 's', sbx: 'x', exp: 9e9 })).toString('base64url');
    expect((await creds.verify(`${header}.${body}.`)).ok).toBe(false);
    expect(await creds.verify('not a jwt')).toEqual({ ok: false, reason: 'malformed' });
    expect(await creds.verify('')).toEqual({ ok: false, reason: 'malformed' });
  });

  test('ttlS must be a positive integer', () => {
    expect(() => createSessionCredentials({ keys: [keyA], ttlS: 0 })).toThrow(TypeError);
  });
});
