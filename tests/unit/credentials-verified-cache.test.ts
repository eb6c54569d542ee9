// Pins gateway/src/credentials/verified-cache.ts: a credential that verified is not verified again
// until it expires; an expired one is verified afresh (and refused); refusals are never cached;
// the cache holds at most maxEntries credentials, oldest out first.
import { describe, expect, test } from 'vitest';
import { cacheVerifiedCredentials, createSessionCredentials, type SessionCredentials } from '@berth/gateway/credentials';

const key = { kid: 'a', secret: new Uint8Array(32).fill(7) };
const subject = (n: number) => ({ tenant: 'alice', sessionId: `s-${n}`, sandboxId: `sbx-${n}` });

function counted(now: () => number): { credentials: SessionCredentials; verifies: () => number } {
  const inner = createSessionCredentials({ keys: [key], now, ttlS: 60, clockToleranceS: 0 });
  let calls = 0;
  return {
    credentials: { mint: (s) => inner.mint(s), verify: (t) => (calls++, inner.verify(t)) },
    verifies: () => calls,
  };
}

describe('verified-credential cache', () => {
  test('verifies a credential once while it is valid, and afresh once it expired', async () => {
    let now = 1_700_000_000_000;
    const { credentials, verifies } = counted(() => now);
    const cached = cacheVerifiedCredentials(credentials, { now: () => now });
    const { token } = await cached.mint(subject(1));
    const first = await cached.verify(token);
    expect(first).toMatchObject({ ok: true, claims: subject(1) });
    expect(await cached.verify(token)).toEqual(first);
    expect(verifies()).toBe(1);
    now += 61_000;
    expect(await cached.verify(token)).toEqual({ ok: false, reason: 'expired' });
    expect(verifies()).toBe(2);
  });

  test('refusals are not cached', async () => {
    const now = () => 1_700_000_000_000;
    const { credentials, verifies } = counted(now);
    const cached = cacheVerifiedCredentials(credentials, { now });
    const { token } = await cached.mint(subject(1));
    const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    for (let i = 0; i < 3; i++) expect((await cached.verify(tampered)).ok).toBe(false);
    expect(verifies()).toBe(3);
  });

  test('holds at most maxEntries credentials, dropping the oldest', async () => {
    const now = () => 1_700_000_000_000;
    const { credentials, verifies } = counted(now);
    const cached = cacheVerifiedCredentials(credentials, { now, maxEntries: 2 });
    const tokens = await Promise.all([1, 2, 3].map(async (n) => (await cached.mint(subject(n))).token));
    for (const token of tokens) await cached.verify(token);
    expect(verifies()).toBe(3);
    await cached.verify(tokens[2]!);
    await cached.verify(tokens[1]!);
    expect(verifies()).toBe(3);
    await cached.verify(tokens[0]!); // dropped when the third came in
    expect(verifies()).toBe(4);
  });
});
