// The Authenticator contract, written once and run per implementation (Static, JWT, Composite;
// tests/unit/authenticator.contract.test.ts): a missing credential, a malformed one, a
// well-formed one nobody issued, an expired one and a good one. Every refusal has the same shape
// whatever the implementation, so the ingress answers them all with one 401 and a caller learns
// nothing about which check failed. Cases an implementation cannot have are skipped with the
// reason written down.

import { describe, expect, test } from 'vitest';
import type { Authenticator } from '@berth/gateway/auth';

export interface AuthenticatorWorld {
  authenticator: Authenticator;
  /** A credential this authenticator accepts for tenant `alice`. */
  valid(): Promise<string>;
  /** Well-formed for this authenticator, but issued by no one it trusts (or naming no tenant it knows). */
  unknown(): Promise<string>;
  /** A credential that was valid and has expired, or a written reason why none can exist. */
  expired(): Promise<string> | { skip: string };
}

export interface AuthenticatorContractOptions {
  name: string;
  open(): Promise<AuthenticatorWorld>;
}

const INVALID = { kind: 'refused', reason: 'invalid' };

export function runAuthenticatorContract(options: AuthenticatorContractOptions): void {
  describe(`Authenticator contract: ${options.name}`, () => {
    test('ok: a valid credential resolves to its tenant', async () => {
      const world = await options.open();
      expect(await world.authenticator.authenticate(await world.valid())).toEqual({ kind: 'ok', principal: { kind: 'tenant', tenant: 'alice' } });
    });

    test('missing: an empty credential is refused as missing', async () => {
      const world = await options.open();
      expect(await world.authenticator.authenticate('')).toEqual({ kind: 'refused', reason: 'missing' });
    });

    test('malformed: junk, a truncated credential and a three-part non-JWT are refused as invalid', async () => {
      const world = await options.open();
      const valid = await world.valid();
      for (const junk of ['not-a-credential', valid.slice(0, -3), 'a.b.c', `${valid}x`]) {
        expect([junk, await world.authenticator.authenticate(junk)]).toEqual([junk, INVALID]);
      }
    });

    test('unknown: a well-formed credential nobody issued is refused as invalid', async () => {
      const world = await options.open();
      expect(await world.authenticator.authenticate(await world.unknown())).toEqual(INVALID);
    });

    test('expired: an expired credential is refused as invalid', async (ctx) => {
      const world = await options.open();
      const expired = world.expired();
      if ('skip' in expired) return ctx.skip(expired.skip);
      expect(await world.authenticator.authenticate(await expired)).toEqual(INVALID);
    });
  });
}
