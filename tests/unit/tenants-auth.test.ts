import { describe, expect, test } from 'vitest';
import { StaticTokenAuthenticator } from '@berth/gateway/auth';
import { bearerToken } from '@berth/gateway/auth';
import { hashToken, parseTenants, TenantsFileError } from '@berth/gateway/tenants';

const file = `
tenants:
  alice:
    tokenHashes: ["${hashToken('alice-token')}"]
    agent: { model: m1, allowedTools: [Bash], maxTurns: 5, permissionMode: default }
    egress: { allow: ["api.github.com", "*.example.com:8443"] }
    limits: { maxConcurrentSessions: 3, tokenBudget: { tokens: 1000, periodS: 60 } }
  bob:
    tokenHashes: ["${hashToken('bob-token')}"]
admins:
  tokenHashes: ["${hashToken('admin-token')}"]
`;

describe('tenants file', () => {
  test('parses tenants, defaults and admins', () => {
    const directory = parseTenants(file);
    const alice = directory.tenants.get('alice')!;
    expect(alice.agent).toEqual({ model: 'm1', allowedTools: ['Bash'], maxTurns: 5, permissionMode: 'default' });
    expect(alice.limits).toEqual({ maxConcurrentSessions: 3, tokenBudget: { tokens: 1000, periodS: 60 } });
    expect(directory.tenants.get('bob')!.sandboxProfile).toBe('default');
    expect(directory.adminTokenHashes).toHaveLength(1);
  });

  test('a bad file names every problem with its path', () => {
    const bad = `
tenants:
  Alice!:
    tokenHashes: ["md5:abc", 7]
    agent: { maxTurns: 0, permissionMode: yolo }
    egress: { allow: ["*"] }
    limits: { requestsPerMinute: -1, tokenBudget: { tokens: 5 } }
`;
    try {
      parseTenants(bad);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TenantsFileError);
      const problems = (error as TenantsFileError).problems;
      const text = problems.join('\n');
      for (const path of ['tenants.Alice!:', 'tokenHashes[0]', 'tokenHashes[1]', 'agent.maxTurns', 'agent.permissionMode', 'egress.allow', 'limits.requestsPerMinute', 'limits.tokenBudget']) {
        expect(text).toContain(path);
      }
    }
  });

  test('one token hash for two tenants is refused', () => {
    const dup = `tenants:\n  a: { tokenHashes: ["${hashToken('x')}"] }\n  b: { tokenHashes: ["${hashToken('x')}"] }\n`;
    expect(() => parseTenants(dup)).toThrow(/also used by tenant a/);
  });
});

describe('StaticTokenAuthenticator', () => {
  const directory = parseTenants(file);
  const auth = new StaticTokenAuthenticator(() => directory);

  test('resolves tenants and admins by token, refuses others', async () => {
    expect(await auth.authenticate('alice-token')).toEqual({ kind: 'ok', principal: { kind: 'tenant', tenant: 'alice' } });
    expect(await auth.authenticate('bob-token')).toEqual({ kind: 'ok', principal: { kind: 'tenant', tenant: 'bob' } });
    expect(await auth.authenticate('admin-token')).toEqual({ kind: 'ok', principal: { kind: 'admin' } });
    expect(await auth.authenticate('alice-token ')).toEqual({ kind: 'refused', reason: 'invalid' });
    expect(await auth.authenticate('')).toEqual({ kind: 'refused', reason: 'missing' });
  });

  test('follows a reloaded directory', async () => {
    let current = directory;
    const live = new StaticTokenAuthenticator(() => current);
    expect((await live.authenticate('carol-token')).kind).toBe('refused');
    current = parseTenants(`tenants:\n  carol: { tokenHashes: ["${hashToken('carol-token')}"] }\n`);
    expect(await live.authenticate('carol-token')).toEqual({ kind: 'ok', principal: { kind: 'tenant', tenant: 'carol' } });
    expect((await live.authenticate('alice-token')).kind).toBe('refused');
  });

  test('bearerToken reads only well-formed Bearer headers', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer ')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
