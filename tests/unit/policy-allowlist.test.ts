// Pins gateway/src/policy/allowlist.ts: entry syntax, exact and wildcard names, ports (no port =
// 443 and 80), IP literals only through address entries, and answer vetting (special addresses
// refused unless named; a mixed answer refused whole).
import { describe, expect, test } from 'vitest';
import { compileAllowlist, decide, namesAddress, parseAllowlist, vetAnswer } from '@berth/gateway/policy';

const allowlist = compileAllowlist(['api.github.com', '*.npmjs.org:443', 'pypi.org:*', '203.0.113.10:8443']);

describe('parseAllowlist', () => {
  test('reports every bad entry at once, naming it', () => {
    const result = parseAllowlist(['ok.example.com', '*', 'a.*.com', '*.10.0.0.1', 'x.com:0', '[::1', '*.com', 'fe80::1%eth0', 'a b']);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(8);
    expect(result.errors[0]).toContain('"*"');
  });

  test('entries normalise: case, trailing dot, IPv4 spellings and IPv6 forms', () => {
    const result = parseAllowlist(['API.Example.COM.', '0x7f.1:8080', '[0:0:0:0:0:0:0:1]', '::1']);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.allowlist.rules.map((r) => [r.kind, r.host, r.ports])).toEqual([
      ['exact', 'api.example.com', [443, 80]],
      ['address', '127.0.0.1', [8080]],
      ['address', '::1', [443, 80]],
      ['address', '::1', [443, 80]],
    ]);
  });
});

describe('decide', () => {
  test('an exact name on a default port is allowed; the decision names the rule', () => {
    expect(decide(allowlist, 'api.github.com', 443)).toMatchObject({ allow: true, rule: 'api.github.com' });
    expect(decide(allowlist, 'API.GITHUB.COM.', 80)).toMatchObject({ allow: true });
  });

  test('an allowed host on a port not allowed is refused as port_not_allowed', () => {
    expect(decide(allowlist, 'api.github.com', 22)).toMatchObject({ allow: false, reason: 'port_not_allowed' });
    expect(decide(allowlist, 'registry.npmjs.org', 80)).toMatchObject({ allow: false, reason: 'port_not_allowed' });
  });

  test('a wildcard matches names below its suffix at any depth, never the apex or a look-alike', () => {
    expect(decide(allowlist, 'registry.npmjs.org', 443).allow).toBe(true);
    expect(decide(allowlist, 'a.b.npmjs.org', 443).allow).toBe(true);
    expect(decide(allowlist, 'npmjs.org', 443)).toMatchObject({ allow: false, reason: 'not_allowlisted' });
    expect(decide(allowlist, 'evilnpmjs.org', 443)).toMatchObject({ allow: false, reason: 'not_allowlisted' });
    expect(decide(allowlist, 'npmjs.org.evil.com', 443)).toMatchObject({ allow: false, reason: 'not_allowlisted' });
  });

  test(':* allows any port', () => {
    expect(decide(allowlist, 'pypi.org', 3128).allow).toBe(true);
  });

  test('an address entry allows its address in any spelling, and only on its port', () => {
    const local = compileAllowlist(['127.0.0.1:8443']);
    for (const spelling of ['127.0.0.1', '127.1', '0x7f.0.0.1', '0177.0.0.1', '2130706433']) {
      expect(decide(local, spelling, 8443)).toMatchObject({ allow: true, rule: '127.0.0.1:8443' });
    }
    expect(decide(local, '127.0.0.2', 8443)).toMatchObject({ allow: false, reason: 'not_allowlisted' });
    expect(decide(local, '127.0.0.1', 443)).toMatchObject({ allow: false, reason: 'port_not_allowed' });
    expect(decide(allowlist, '203.0.113.10', 8443).allow).toBe(true);
  });

  // Each special spelling is its own case: refused because no entry names that address (names
  // and wildcards never match an IP literal).
  const wide = compileAllowlist(['*.example.com:*', 'example.com:*', 'localhost:*']);
  test.each([
    '127.0.0.1', '0', '127.1', '0177.0.0.1', '0x7f.0.0.1', '2130706433', '[::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]',
    '[64:ff9b::7f00:1]', '169.254.169.254', '10.0.0.1', '100.64.0.1', '0.0.0.0',
  ])('%s is refused unless an address entry names it', (host) => {
    expect(decide(wide, host, 443)).toMatchObject({ allow: false, reason: 'not_allowlisted' });
  });

  test('link-local IPv6 with a zone id is refused, even when the address is named', () => {
    const named = compileAllowlist(['[fe80::1]']);
    expect(decide(named, 'fe80::1%eth0', 443)).toMatchObject({ allow: false, reason: 'invalid_host' });
    expect(decide(named, '[fe80::1%25eth0]', 443)).toMatchObject({ allow: false, reason: 'invalid_host' });
    expect(decide(wide, '[fe80::1%eth0]', 443)).toMatchObject({ allow: false, reason: 'invalid_host' });
  });

  test('the same addresses are allowed when the allowlist names them', () => {
    const named = compileAllowlist(['127.0.0.1', '[::1]', '[::ffff:127.0.0.1]', '169.254.169.254', '[64:ff9b::7f00:1]']);
    expect(decide(named, '127.1', 443).allow).toBe(true);
    expect(decide(named, '[::1]', 443).allow).toBe(true);
    expect(decide(named, '[::ffff:7f00:1]', 443).allow).toBe(true);
    expect(decide(named, '169.254.169.254', 80).allow).toBe(true);
    expect(decide(named, '[64:ff9b::127.0.0.1]', 443).allow).toBe(true);
  });

  test('garbage hosts are invalid_host', () => {
    expect(decide(allowlist, 'a b', 443)).toMatchObject({ allow: false, reason: 'invalid_host' });
    expect(decide(allowlist, '999.1.1.1', 443)).toMatchObject({ allow: false, reason: 'invalid_host' });
  });
});

describe('vetAnswer', () => {
  test('an all-public answer is allowed and the first address is the one to dial', () => {
    expect(vetAnswer(allowlist, ['8.8.8.8', '2606:4700::1111'], 443)).toEqual({ allow: true, address: '8.8.8.8', family: 4 });
    expect(vetAnswer(allowlist, ['2606:4700::1111', '8.8.8.8'], 443)).toEqual({ allow: true, address: '2606:4700::1111', family: 6 });
  });

  test('an allowlisted name resolving to a private address is refused', () => {
    expect(vetAnswer(allowlist, ['10.1.2.3'], 443)).toMatchObject({ allow: false, reason: 'special_address' });
    expect(vetAnswer(allowlist, ['::ffff:192.168.0.1'], 443)).toMatchObject({ allow: false, reason: 'special_address' });
  });

  test('a mixed public/private answer is refused whole, whichever comes first', () => {
    expect(vetAnswer(allowlist, ['8.8.8.8', '127.0.0.1'], 443)).toMatchObject({ allow: false, reason: 'special_address' });
    expect(vetAnswer(allowlist, ['169.254.169.254', '8.8.8.8'], 443)).toMatchObject({ allow: false, reason: 'special_address' });
  });

  test('a special address named (with a matching port) by an address entry passes', () => {
    const named = compileAllowlist(['svc.internal:8443', '10.1.2.3:8443']);
    expect(vetAnswer(named, ['10.1.2.3'], 8443)).toEqual({ allow: true, address: '10.1.2.3', family: 4 });
    expect(vetAnswer(named, ['10.1.2.3'], 9443)).toMatchObject({ allow: false, reason: 'special_address' });
    expect(namesAddress(named, '10.1.2.3', 8443)).toBe(true);
    expect(namesAddress(named, '10.1.2.4', 8443)).toBe(false);
  });

  test('an empty or non-address answer is resolution_failed', () => {
    expect(vetAnswer(allowlist, [], 443)).toMatchObject({ allow: false, reason: 'resolution_failed' });
    expect(vetAnswer(allowlist, ['not-an-ip'], 443)).toMatchObject({ allow: false, reason: 'resolution_failed' });
  });
});
