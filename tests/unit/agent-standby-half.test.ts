// The pieces that let a standby's CLI be claimed before its session exists (agent-image
// standby.ts): the held prompt it is claimed with writes exactly one message, and only once
// told to (or none, when the standby is discarded); the session's half applied at bootstrap
// carries the endpoint, credential and proxies as env, and the permission mode a cold start uses;
// with the sandbox's egress key in force it carries no env, and which endpoints count as the key's.
import { describe, expect, test } from 'vitest';
import { buildSessionHalf, type SdkInputs } from '@berth/agent-image';
import { egressEndpoint, egressKeySha256, isEgressKey, isEgressKeySha256, newEgressKey, sameEgressEndpoint } from '@berth/protocol';
import { HeldPrompt } from '@berth/agent-image/testing';

async function drain(held: HeldPrompt): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const message of held.messages()) out.push(message);
  return out;
}

describe('HeldPrompt', () => {
  test('writes nothing until send(), then exactly the first prompt, and ends', async () => {
    const held = new HeldPrompt();
    let done = false;
    const drained = drain(held).then((messages) => ((done = true), messages));
    await Promise.resolve();
    expect(done).toBe(false);
    held.send('first');
    held.send('second');
    held.cancel();
    expect(await drained).toEqual([{ type: 'user', message: { role: 'user', content: 'first' }, parent_tool_use_id: null }]);
  });

  test('cancel() ends the input without a message', async () => {
    const held = new HeldPrompt();
    held.cancel();
    held.send('too late');
    expect(await drain(held)).toEqual([]);
  });
});

describe('buildSessionHalf', () => {
  const inputs: SdkInputs = {
    profile: {},
    model: { baseUrl: 'http://egress.test:8081', apiKey: 'cred-1' },
    egress: { proxyUrl: 'http://berth:cred-1@egress.test:8081', noProxy: ['egress.test'] },
    dirs: { root: '/d', home: '/d/home', config: '/d/config', tmp: '/d/tmp', work: '/d/work' },
    path: '/usr/bin',
    isRoot: false,
    projectKey: 'tenant-alice',
  };

  test('endpoint, credential and both cases of the proxies go in env; nothing else is set unasked', () => {
    const half = buildSessionHalf(inputs);
    expect(half).toEqual({
      env: {
        ANTHROPIC_BASE_URL: 'http://egress.test:8081',
        ANTHROPIC_API_KEY: 'cred-1',
        CLAUDE_CODE_PROJECT_DIR_NAME: 'tenant-alice',
        HTTPS_PROXY: 'http://berth:cred-1@egress.test:8081',
        https_proxy: 'http://berth:cred-1@egress.test:8081',
        HTTP_PROXY: 'http://berth:cred-1@egress.test:8081',
        http_proxy: 'http://berth:cred-1@egress.test:8081',
        NO_PROXY: 'egress.test',
        no_proxy: 'egress.test',
      },
    });
  });

  test("the profile's model and mode; with a policy and no mode, 'default' (as a cold start)", () => {
    expect(buildSessionHalf({ ...inputs, profile: { model: 'm-1', permissionMode: 'plan' } })).toMatchObject({ model: 'm-1', permissionMode: 'plan' });
    const policy = { canUseTool: async () => ({ behavior: 'allow' as const, updatedInput: {} }), hooks: {} };
    expect(buildSessionHalf({ ...inputs, permissions: policy }).permissionMode).toBe('default');
  });

  test("with the sandbox's egress key in force (ownKey), no env at all: only model and mode", () => {
    expect(buildSessionHalf({ ...inputs, ownKey: true, profile: { model: 'm-1', permissionMode: 'plan' } })).toEqual({ model: 'm-1', permissionMode: 'plan' });
  });
});

describe('the egress endpoint a standby compares with its own', () => {
  const own = egressEndpoint('http://egress.test:8081', 'bsk_own');
  test('the same URLs with other credentials are the same endpoint; another host, path or exemption is not', () => {
    expect(sameEgressEndpoint(own, egressEndpoint('http://egress.test:8081/', 'jwt.session.credential'))).toBe(true);
    expect(sameEgressEndpoint(own, egressEndpoint('http://egress.other:8081', 'x'))).toBe(false);
    expect(sameEgressEndpoint(own, egressEndpoint('http://egress.test:8081/v2', 'x'))).toBe(false);
    expect(sameEgressEndpoint(own, { ...egressEndpoint('http://egress.test:8081', 'x'), egress: { proxyUrl: 'http://berth:x@egress.test:8081', noProxy: ['egress.test', 'more.test'] } })).toBe(false);
    expect(sameEgressEndpoint(own, { model: own.model })).toBe(false);
  });
});

describe('the egress key', () => {
  test('fresh keys have the shape the egress gateway looks up, differ, and hash to 64 hex digits; a JWT is not a key', () => {
    const [a, b] = [newEgressKey(), newEgressKey()];
    expect(isEgressKey(a) && isEgressKey(b)).toBe(true);
    expect(a).not.toBe(b);
    expect(isEgressKeySha256(egressKeySha256(a))).toBe(true);
    expect(egressKeySha256(a)).not.toBe(egressKeySha256(b));
    for (const other of ['eyJhbGciOiJIUzI1NiJ9.eyJ0ZW4iOiJhIn0.c2ln', `${a}x`, a.slice(0, -1), a.replace('bsk_', 'sk_'), '']) expect(isEgressKey(other), other).toBe(false);
  });
});
