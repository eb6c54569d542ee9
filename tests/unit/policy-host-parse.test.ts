// Pins gateway/src/policy/host-parse.ts: every spelling of an IP address that curl, a URL parser
// or glibc's inet_aton accepts becomes one canonical address, so the allowlist and the address
// classifier never compare two spellings of one address as different hosts.
import { describe, expect, test } from 'vitest';
import { formatIpv6, parseAuthority, parseHost, parsePort } from '@berth/gateway/policy';

describe('parseHost: IPv4 spellings (WHATWG / inet_aton rules)', () => {
  test.each([
    ['127.0.0.1', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0x7f.0.0.1', '127.0.0.1'],
    ['0X7F.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['169.254.169.254', '169.254.169.254'],
    ['169.254.43518', '169.254.169.254'],
    ['10.0.0.1.', '10.0.0.1'],
    ['0x', '0.0.0.0'],
  ])('%s → %s', (input, canonical) => {
    const parsed = parseHost(input);
    expect(parsed).toMatchObject({ kind: 'ipv4', address: canonical });
  });

  test.each(['256.0.0.1', '1.2.3.4.5', '1.2.3.256', '08.0.0.1', '0x1g.1', '4294967296', '1..2.3', '1.256.3'])(
    'numeric-looking %s is invalid, never treated as a name',
    (input) => expect(parseHost(input)).toBeNull(),
  );

  test('an empty hex part is zero (WHATWG), not an error', () => {
    expect(parseHost('1.2.3.0x')).toMatchObject({ kind: 'ipv4', address: '1.2.3.0' });
  });
});

describe('parseHost: IPv6', () => {
  test.each([
    ['[::1]', '::1'],
    ['::1', '::1'],
    ['[0:0:0:0:0:0:0:1]', '::1'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1'],
    ['[::ffff:7f00:1]', '::ffff:7f00:1'],
    ['[64:ff9b::7f00:1]', '64:ff9b::7f00:1'],
    ['[64:ff9b::127.0.0.1]', '64:ff9b::7f00:1'],
    ['[2001:DB8::A]', '2001:db8::a'],
    ['[2001:db8:0:0:1:0:0:1]', '2001:db8::1:0:0:1'],
    ['[fe80::1]', 'fe80::1'],
  ])('%s → %s', (input, canonical) => {
    expect(parseHost(input)).toMatchObject({ kind: 'ipv6', address: canonical });
  });

  test('zone ids are kept apart from the address, in both raw and URL-encoded form', () => {
    expect(parseHost('fe80::1%eth0')).toMatchObject({ kind: 'ipv6', address: 'fe80::1', zone: 'eth0' });
    expect(parseHost('[fe80::1%25eth0]')).toMatchObject({ kind: 'ipv6', address: 'fe80::1', zone: 'eth0' });
  });

  test.each(['[::1', '[1::2::3]', '[12345::]', '[::ffff:127.0.0.256]', '[1:2:3:4:5:6:7:8:9]', '[1:2:3:4:5:6:7]', '[::1.2.3.4:5]', '[fe80::1%]', '[fe80::1%a b]'])(
    '%s is invalid',
    (input) => expect(parseHost(input)).toBeNull(),
  );

  test('formatIpv6 compresses the longest zero run (RFC 5952), first one on a tie', () => {
    expect(formatIpv6(new Uint8Array(16))).toBe('::');
    const bytes = new Uint8Array(16);
    bytes[1] = 1; // 1:0:0:0:0:0:0:0 ... set word 0 = 1, word 4 = 1
    bytes[9] = 1;
    expect(formatIpv6(bytes)).toBe('1::1:0:0:0');
  });
});

describe('parseHost: names', () => {
  test('names are lower-cased, lose one trailing dot and become IDNA ASCII', () => {
    expect(parseHost('API.GitHub.com.')).toEqual({ kind: 'name', name: 'api.github.com' });
    expect(parseHost('bücher.example')).toEqual({ kind: 'name', name: 'xn--bcher-kva.example' });
  });

  test.each(['exa mple.com', 'a..b', '-bad.com', 'x'.repeat(64) + '.com', 'evil.com/', 'a@b.com', ''])('%j is invalid', (input) => {
    expect(parseHost(input)).toBeNull();
  });
});

describe('parseAuthority and parsePort', () => {
  test('host:port, [v6]:port and a default port', () => {
    expect(parseAuthority('example.com:8443')).toMatchObject({ host: { kind: 'name', name: 'example.com' }, hostText: 'example.com', port: 8443 });
    expect(parseAuthority('[::1]:443')).toMatchObject({ host: { kind: 'ipv6', address: '::1' }, hostText: '[::1]', port: 443 });
    expect(parseAuthority('example.com', 80)).toMatchObject({ port: 80 });
    expect(parseAuthority('example.com')).toBeNull();
  });

  test('bare IPv6, bad ports and junk after ] are refused', () => {
    expect(parseAuthority('::1:443')).toBeNull();
    expect(parseAuthority('example.com:0')).toBeNull();
    expect(parseAuthority('example.com:65536')).toBeNull();
    expect(parseAuthority('example.com:+443')).toBeNull();
    expect(parseAuthority('[::1]x')).toBeNull();
    expect(parsePort('0x1bb')).toBeNull();
    expect(parsePort('443')).toBe(443);
  });
});
