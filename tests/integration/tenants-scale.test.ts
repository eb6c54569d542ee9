// Tenants at scale, for correctness (the timings are in tests/bench/tenants.bench.test.ts):
// a 100,000-tenant file loads, the last tenant's token resolves through the O(1) token index,
// a token removed from the file stops resolving after the reload, the old directory keeps
// answering while a reload is under way, and a reload of unchanged bytes is skipped.
// Also: the JSON and YAML spellings of one file mean the same, and YAML still refuses a key given
// twice (its parser's own quadratic check is off; ours replaces it).

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { StaticTokenAuthenticator } from '@berth/gateway/auth';
import { hashToken, parseTenants, TenantsSource } from '@berth/gateway/tenants';
import { tenantsJson, tokenOf } from '../fixtures/tenants-at-scale.js';

const COUNT = 100_000;
const LAST = COUNT - 1;
const log = pino({ level: 'silent' });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-tenants-scale-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`${COUNT} tenants`, () => {
  test('the last tenant resolves; a revoked token stops resolving at the reload; the old directory serves until the swap', async () => {
    const file = path.join(dir, 'tenants.json');
    await writeFile(file, tenantsJson(COUNT));
    const source = await TenantsSource.open(file, log);
    const auth = new StaticTokenAuthenticator(source.current);
    expect(source.current().tenants.size).toBe(COUNT);
    expect(await auth.authenticate(tokenOf(LAST))).toEqual({ kind: 'ok', principal: { kind: 'tenant', tenant: `t${LAST}` } });
    expect(await auth.authenticate(tokenOf(0))).toEqual({ kind: 'ok', principal: { kind: 'tenant', tenant: 't0' } });
    expect(await auth.authenticate(tokenOf(COUNT))).toEqual({ kind: 'refused', reason: 'invalid' });

    // Revoke the last tenant's token (its tenant leaves the file) and add a new one.
    await writeFile(file, tenantsJson(COUNT, { skip: new Set([LAST]), extra: { newcomer: { tokenHashes: [hashToken('berth_newcomer')] } } }));
    const before = source.current();
    const reloading = source.reload();
    // The reload is under way (its read has not even returned): the directory in force is the old
    // one, whole, and answers as before.
    expect(source.current()).toBe(before);
    expect(await auth.authenticate(tokenOf(LAST))).toMatchObject({ kind: 'ok' });
    expect(await auth.authenticate('berth_newcomer')).toMatchObject({ kind: 'refused' });
    expect(await reloading).toEqual({ kind: 'applied', tenants: COUNT });
    expect(await auth.authenticate(tokenOf(LAST))).toEqual({ kind: 'refused', reason: 'invalid' });
    expect(await auth.authenticate('berth_newcomer')).toEqual({ kind: 'ok', principal: { kind: 'tenant', tenant: 'newcomer' } });
    expect(await auth.authenticate(tokenOf(LAST - 1))).toMatchObject({ kind: 'ok' });

    // Same bytes again (a touch, a rename of an identical file): nothing is parsed or swapped.
    const applied = source.current();
    expect(await source.reload()).toEqual({ kind: 'unchanged', tenants: COUNT });
    expect(source.current()).toBe(applied);
    source.close();
    // Two 100,000-tenant loads plus two generated files: seconds on an idle machine, far more on a busy one.
  }, 180_000);
});

describe('the two spellings of a tenants file', () => {
  const doc = {
    tenants: {
      alice: { tokenHashes: [hashToken('a')], egress: { allow: ['api.github.com'] }, limits: { maxConcurrentSessions: 2 }, agent: { maxTurns: 3 } },
      bob: { tokenHashes: [hashToken('b')] },
    },
    admins: { tokenHashes: [hashToken('root')] },
  };

  test('JSON and YAML give the same directory', () => {
    const fromJson = parseTenants(JSON.stringify(doc, null, 2));
    const fromYaml = parseTenants(stringify(doc));
    expect([...fromJson.tenants.entries()]).toEqual([...fromYaml.tenants.entries()]);
    expect(fromJson.adminTokenHashes).toEqual(fromYaml.adminTokenHashes);
  });

  test('a JSON file is validated like a YAML one', () => {
    expect(() => parseTenants(JSON.stringify({ tenants: { alice: { limts: {} } } }))).toThrow(/tenants\.alice\.limts: unknown key/);
  });

  test('YAML refuses a key given twice, with its line, at any depth', () => {
    expect(() => parseTenants('tenants:\n  alice: {}\n  bob: {}\n  alice: {}\n')).toThrow(/key "alice" is given twice in one mapping at line 4/);
    expect(() => parseTenants('tenants:\n  alice:\n    limits: {}\n    limits: {}\n')).toThrow(/key "limits" is given twice/);
  });

  test('a YAML flow mapping that is not JSON is still YAML', () => {
    expect(parseTenants('{tenants: {alice: {}}}').tenants.has('alice')).toBe(true);
  });
});
