// The tenants file's one schema as the gateway's loader and `berth tenants check` apply it:
// unknown keys refused at every level with their path (a misspelled `limits` once left a tenant
// unlimited), the agent profile's v2 fields and tenant webhooks typed through, and the rules
// beyond the schema (allowlist grammar, one token per principal, webhook secrets) kept.
import { describe, expect, test } from 'vitest';
import { hashToken, parseTenants, TenantsFileError } from '@berth/gateway/tenants';
import { checkLocally } from '@berth/cli/testing';

const HASH = hashToken('alice-token');
const SECRET = 'whsec_' + Buffer.alloc(32, 7).toString('base64');

function problemsOf(text: string): string[] {
  try {
    parseTenants(text);
  } catch (error) {
    if (error instanceof TenantsFileError) return error.problems;
    throw error;
  }
  throw new Error('expected the tenants file to be refused');
}

describe('unknown keys', () => {
  const misspelled: Array<[string, string, string]> = [
    ['the root', `tenats: {}\ntenants: {}\n`, 'tenats: unknown key'],
    ['a tenant', `tenants:\n  alice:\n    tokenHashes: ["${HASH}"]\n    limts: { maxConcurrentSessions: 1 }\n`, 'tenants.alice.limts: unknown key (did you mean limits?'],
    ['egress', `tenants:\n  alice:\n    egres: { allow: [] }\n`, 'tenants.alice.egres: unknown key (did you mean egress?'],
    ['limits', `tenants:\n  alice:\n    limits: { maxConcurentSessions: 1 }\n`, 'tenants.alice.limits.maxConcurentSessions: unknown key (did you mean maxConcurrentSessions?'],
    ['the token budget', `tenants:\n  alice:\n    limits: { tokenBudget: { tokens: 1, periodS: 60, period: 60 } }\n`, 'tenants.alice.limits.tokenBudget.period: unknown key'],
    ['agent', `tenants:\n  alice:\n    agent: { maxTurn: 3 }\n`, 'tenants.alice.agent.maxTurn: unknown key (did you mean maxTurns?'],
    ['a permission rule', `tenants:\n  alice:\n    agent: { permissions: { rules: [{ tool: Bash, decision: deny, why: x }] } }\n`, 'tenants.alice.agent.permissions.rules[0].why: unknown key'],
    ['a webhook', `tenants:\n  alice:\n    webhooks: [{ url: "https://h.example/x", secret: "${SECRET}", event: [] }]\n`, 'tenants.alice.webhooks[0].event: unknown key (did you mean events?'],
    ['admins', `tenants: {}\nadmins: { tokenHash: [] }\n`, 'admins.tokenHash: unknown key (did you mean tokenHashes?'],
  ];
  test.each(misspelled)('in %s: refused by the gateway and by `berth tenants check`, named with its path', (_where, text, problem) => {
    expect(problemsOf(text).join('\n')).toContain(problem);
    const check = checkLocally(text);
    expect(check.ok).toBe(false);
    expect(check.problems.join('\n')).toContain(problem);
  });

  test('every problem of one file is reported at once, in file order', () => {
    const problems = problemsOf(`tenants:\n  alice:\n    limts: {}\n    agent: { maxTurns: 0 }\n  bob:\n    egres: {}\n`);
    expect(problems.map((p) => p.split(':')[0])).toEqual(['tenants.alice.limts', 'tenants.alice.agent.maxTurns', 'tenants.bob.egres']);
  });
});

describe('agent profile v2 fields and webhooks', () => {
  const text = `tenants:
  alice:
    tokenHashes: ["${HASH}"]
    agent:
      permissions: { default: ask, rules: [{ tool: "mcp__*", decision: deny }, { tool: Bash, decision: allow }] }
      approvalTimeoutS: 60
      turnTimeoutS: 600
      maxFramesPerTurn: 100
      maxFrameBytes: 65536
    webhooks:
      - { url: "https://hooks.example/berth", secret: "${SECRET}", events: [session.turn_ended] }
      - { url: "http://10.0.0.5:8080/all", secret: "${SECRET}" }
`;

  test('are carried into the Tenant as written', () => {
    const alice = parseTenants(text).tenants.get('alice')!;
    expect(alice.agent).toEqual({
      permissions: { default: 'ask', rules: [{ tool: 'mcp__*', decision: 'deny' }, { tool: 'Bash', decision: 'allow' }] },
      approvalTimeoutS: 60,
      turnTimeoutS: 600,
      maxFramesPerTurn: 100,
      maxFrameBytes: 65536,
    });
    expect(alice.webhooks).toEqual([
      { url: 'https://hooks.example/berth', secret: SECRET, events: ['session.turn_ended'] },
      { url: 'http://10.0.0.5:8080/all', secret: SECRET },
    ]);
    expect(parseTenants(`tenants:\n  bob: {}\n`).tenants.get('bob')!.webhooks).toBeUndefined();
  });

  const bad: Array<[string, string, string]> = [
    ['a decision that is not allow/deny/ask', `agent: { permissions: { default: maybe } }`, 'tenants.alice.agent.permissions.default: must be one of allow, deny, ask'],
    ['a rule without a tool', `agent: { permissions: { rules: [{ decision: deny }] } }`, 'tenants.alice.agent.permissions.rules[0].tool: required'],
    ['a zero approval timeout', `agent: { approvalTimeoutS: 0 }`, 'tenants.alice.agent.approvalTimeoutS: must be an integer from 1 to 86400'],
    ['a fractional turn timeout', `agent: { turnTimeoutS: 1.5 }`, 'tenants.alice.agent.turnTimeoutS: must be an integer from 1 to 86400'],
    ['frames below 1', `agent: { maxFramesPerTurn: 0 }`, 'tenants.alice.agent.maxFramesPerTurn: must be an integer from 1 to 1000000'],
    ['a frame bound below 1 KiB', `agent: { maxFrameBytes: 10 }`, 'tenants.alice.agent.maxFrameBytes: must be an integer from 1024 to 67108864'],
    ['a webhook without a secret', `webhooks: [{ url: "https://h.example" }]`, 'tenants.alice.webhooks[0].secret: required'],
    ['a webhook URL that is not http(s)', `webhooks: [{ url: "ftp://h.example", secret: "${SECRET}" }]`, 'tenants.alice.webhooks[0].url: must be an http:// or https:// URL'],
    ['a webhook URL that does not parse', `webhooks: [{ url: "http://[nope", secret: "${SECRET}" }]`, 'tenants.alice.webhooks[0].url: must be an http:// or https:// URL'],
    ['a secret without whsec_', `webhooks: [{ url: "https://h.example", secret: "hunter2hunter2" }]`, 'tenants.alice.webhooks[0].secret: must be a Standard Webhooks secret'],
    ['a secret key that is too short', `webhooks: [{ url: "https://h.example", secret: "whsec_c2hvcnQ=" }]`, 'tenants.alice.webhooks[0].secret: the key after whsec_ must be 24 to 64 bytes (base64), not 5'],
    ['an event berth does not send', `webhooks: [{ url: "https://h.example", secret: "${SECRET}", events: [session.created] }]`, 'tenants.alice.webhooks[0].events[0]: must be one of session.status_changed, session.turn_ended'],
    ['an event listed twice', `webhooks: [{ url: "https://h.example", secret: "${SECRET}", events: [session.turn_ended, session.turn_ended] }]`, 'tenants.alice.webhooks[0].events: lists the same value twice'],
  ];
  test.each(bad)('refuses %s, naming its path', (_what, yaml, problem) => {
    expect(problemsOf(`tenants:\n  alice:\n    ${yaml}\n`).join('\n')).toContain(problem);
  });

  test('a problem never echoes a webhook secret', () => {
    const leaky = 'whsec_' + Buffer.from('short').toString('base64');
    const problems = problemsOf(`tenants:\n  alice:\n    webhooks: [{ url: "https://h.example", secret: "${leaky}" }, { url: "https://h2.example", secret: "not-a-secret-format" }]\n`);
    expect(problems).toHaveLength(2);
    for (const p of problems) expect(p).not.toMatch(/c2hvcnQ|not-a-secret-format/);
  });
});

describe('rules beyond the schema', () => {
  test('an allowlist entry in the wrong grammar is refused with the entry named', () => {
    expect(problemsOf(`tenants:\n  alice:\n    egress: { allow: ["*"] }\n`)).toEqual(['tenants.alice.egress.allow: egress allow entry "*": a wildcard is only allowed as a leading "*."']);
  });

  test('an allowlist entry the schema refuses is reported once, not again by the allowlist grammar', () => {
    expect(problemsOf(`tenants:\n  alice:\n    egress: { allow: ["https://api.github.com"] }\n`)).toHaveLength(1);
  });

  test('one token hash for a tenant and an admin is refused (one token, one principal)', () => {
    const text = `tenants:\n  alice: { tokenHashes: ["${HASH}"] }\nadmins: { tokenHashes: ["${HASH}"] }\n`;
    expect(problemsOf(text)).toEqual([expect.stringMatching(/^admins\.tokenHashes: a token hash is also a token of tenant alice/)]);
    expect(checkLocally(text).ok).toBe(false);
    // The same hash twice among the admins is harmless: one principal.
    expect(parseTenants(`tenants: {}\nadmins: { tokenHashes: ["${HASH}", "${HASH}"] }\n`).adminTokenHashes).toHaveLength(2);
  });

  test('a hash in upper case or without its prefix is refused with how to mint one', () => {
    const problems = problemsOf(`tenants:\n  alice: { tokenHashes: ["${HASH.toUpperCase()}", "${HASH.slice(7)}"] }\n`);
    expect(problems).toEqual([
      expect.stringMatching(/^tenants\.alice\.tokenHashes\[0\]: must be "sha256:<64 lowercase hex>".*berth token <tenant>/),
      expect.stringMatching(/^tenants\.alice\.tokenHashes\[1\]: must be "sha256:<64 lowercase hex>"/),
    ]);
  });

  test('a document that is not a mapping, and one without tenants', () => {
    expect(problemsOf('- a\n- b\n')).toEqual(['the file must be a mapping with a `tenants` key']);
    expect(problemsOf('admins: {}\n')).toEqual(['tenants: required']);
    expect(problemsOf('tenants:\n')).toEqual(['tenants: must be a mapping']);
  });
});
