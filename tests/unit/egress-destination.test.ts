// Pins gateway/src/egress/destination.ts: no DNS for a refused name, exactly one resolution per
// destination, and the dialled address is the vetted one even when the resolver would answer
// differently a moment later (DNS rebinding between check and connect).
import { describe, expect, test } from 'vitest';
import { compileAllowlist } from '@berth/gateway/policy';
import { resolveDestination } from '@berth/gateway/egress';
import type { Resolver } from '@berth/gateway/egress';

function scripted(answers: string[][]): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = (async (name: string) => {
    calls.push(name);
    const answer = answers[Math.min(calls.length - 1, answers.length - 1)]!;
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  }) as Resolver & { calls: string[] };
  resolver.calls = calls;
  return resolver;
}

const allowlist = compileAllowlist(['files.example.com', 'internal.example.com', '10.9.9.9:443']);

describe('resolveDestination', () => {
  test('a refused name is never resolved', async () => {
    const resolver = scripted([['8.8.8.8']]);
    expect(await resolveDestination(allowlist, 'other.example.com', 443, resolver)).toMatchObject({ allow: false, reason: 'not_allowlisted' });
    expect(resolver.calls).toEqual([]);
  });

  test('public first, private later: one resolution, and the first vetted address is the destination', async () => {
    const resolver = scripted([['93.184.216.34'], ['127.0.0.1']]);
    const dest = await resolveDestination(allowlist, 'files.example.com', 443, resolver);
    expect(dest).toEqual({ allow: true, address: '93.184.216.34', family: 4, port: 443, rule: 'files.example.com' });
    expect(resolver.calls).toEqual(['files.example.com']);
  });

  test('an allowlisted name resolving to a private address is refused, unless that address is named', async () => {
    expect(await resolveDestination(allowlist, 'files.example.com', 443, scripted([['10.0.0.5']]))).toMatchObject({
      allow: false,
      reason: 'special_address',
    });
    expect(await resolveDestination(allowlist, 'internal.example.com', 443, scripted([['10.9.9.9']]))).toMatchObject({
      allow: true,
      address: '10.9.9.9',
    });
  });

  test('a mixed public/private answer is refused', async () => {
    expect(await resolveDestination(allowlist, 'files.example.com', 443, scripted([['93.184.216.34', '169.254.169.254']]))).toMatchObject({
      allow: false,
      reason: 'special_address',
    });
  });

  test('an IP literal named by an address entry is dialled without any resolution', async () => {
    const resolver = scripted([['8.8.8.8']]);
    expect(await resolveDestination(allowlist, '10.9.9.9', 443, resolver)).toMatchObject({ allow: true, address: '10.9.9.9' });
    expect(resolver.calls).toEqual([]);
  });

  test('a failing or hanging resolver is resolution_failed', async () => {
    const failing: Resolver = async () => {
      throw new Error('ENOTFOUND');
    };
    expect(await resolveDestination(allowlist, 'files.example.com', 443, failing)).toMatchObject({ allow: false, reason: 'resolution_failed' });
    const hanging: Resolver = () => new Promise(() => {});
    expect(await resolveDestination(allowlist, 'files.example.com', 443, hanging, { timeoutMs: 20 })).toMatchObject({
      allow: false,
      reason: 'resolution_failed',
    });
  });
});
