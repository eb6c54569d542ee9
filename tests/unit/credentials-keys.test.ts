// Pins gateway/src/credentials/credential-keys.ts: BERTH_CREDENTIAL_KEYS parsing (order kept, the
// first signs), every problem reported at once, short secrets refused, secrets never echoed.
import { describe, expect, test } from 'vitest';
import { credentialKeysFromEnv, generateCredentialKeys, parseCredentialKeys } from '@berth/gateway/credentials';

const secret32 = Buffer.alloc(32, 7).toString('base64');
const secret48url = Buffer.alloc(48, 0xfb).toString('base64url');

describe('parseCredentialKeys', () => {
  test('parses kid:base64 pairs in order, base64 and base64url', () => {
    const result = parseCredentialKeys(`k2:${secret32}, k1:${secret48url}`);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.keys.map((k) => k.kid)).toEqual(['k2', 'k1']);
    expect(result.keys[0].secret).toEqual(new Uint8Array(32).fill(7));
    expect(result.keys[1]!.secret).toEqual(new Uint8Array(48).fill(0xfb));
  });

  test('reports every bad entry at once and never prints a secret', () => {
    const short = Buffer.from('short-secret').toString('base64');
    const result = parseCredentialKeys(`nocolon,bad kid:${secret32},k:${short},k:${secret32},k:${secret32},x:!!!`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(5);
    const text = result.errors.join('\n');
    expect(text).toContain('at least 32');
    expect(text).toContain('appears twice');
    expect(text).not.toContain(secret32);
    expect(text).not.toContain(short);
  });

  test('empty is an error; credentialKeysFromEnv generates for unset and throws for invalid', () => {
    expect(parseCredentialKeys(' , ').ok).toBe(false);
    const generated = credentialKeysFromEnv(undefined);
    expect(generated).toHaveLength(1);
    expect(generated[0].secret.length).toBe(32);
    expect(generated[0].kid).toMatch(/^gen-[0-9a-f]{12}$/);
    expect(generateCredentialKeys()[0].kid).not.toBe(generated[0].kid);
    expect(() => credentialKeysFromEnv('k:abc')).toThrow(/at least 32/);
    expect(credentialKeysFromEnv(`k:${secret32}`)[0].kid).toBe('k');
  });
});
