// JWTAuthenticator: bearer JWTs from the operator's identity provider, verified with jose against a
// JWKS URL or one local public key (PEM or JWK). The tenant comes from a configurable claim and
// must exist in the tenants directory. Neighbours: StaticTokenAuthenticator (hashed tokens) and
// CompositeAuthenticator (picks one by token shape). It does not mint tokens or map admins.
// Security controls: an allowlist of asymmetric algorithms only (never 'none', never HS*, so an
// RS256 token re-signed as HS256 with the public key is refused); required iss, aud and exp; a
// JWKS endpoint that is down or slow fails closed within its timeout.

import { createPublicKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWK, type JWTVerifyGetKey } from 'jose';
import { findTenant, type TenantDirectory } from '../tenants/tenant.js';
import type { Authenticator, AuthResult } from './authenticator.js';

/** The only algorithms an operator may allow: asymmetric ones, verified with a public key. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export const DEFAULT_JWT_ALGORITHMS = ['RS256', 'ES256'];

export type JWTKeySource =
  /** Fetched on first use, cached, refetched on an unknown kid at most once per cooldown. */
  | { kind: 'jwks'; url: string; timeoutMs: number; cooldownMs?: number }
  /** The text of a PEM public key, a JWK, or a JWK set. */
  | { kind: 'local'; text: string };

export interface JWTAuthenticatorOptions {
  keySource: JWTKeySource;
  issuer: string;
  audience: string;
  /** Default RS256, ES256. Anything outside ASYMMETRIC_ALGORITHMS is rejected at construction. */
  algorithms?: string[];
  /** Claim naming the tenant. Default 'berth_tenant'. */
  tenantClaim?: string;
  /** Leeway for exp/nbf between our clock and the issuer's. Default 30 s. */
  clockToleranceS?: number;
  tenants: () => TenantDirectory;
  /** Injected clock (ms since epoch); default Date.now. */
  now?: () => number;
  /** Told when the key source itself fails (JWKS down, slow, malformed). The caller is refused. */
  onKeySourceError?: (error: unknown) => void;
}

export class JWTAuthenticator implements Authenticator {
  private readonly key: JWTVerifyGetKey | KeyObject;
  private readonly algorithms: string[];
  private readonly tenantClaim: string;
  private readonly clockToleranceS: number;

  constructor(private readonly options: JWTAuthenticatorOptions) {
    this.algorithms = options.algorithms ?? DEFAULT_JWT_ALGORITHMS;
    const bad = this.algorithms.filter((alg) => !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg));
    if (bad.length > 0 || this.algorithms.length === 0) {
      throw new Error(`JWT algorithms must be a non-empty subset of ${ASYMMETRIC_ALGORITHMS.join(', ')} (got ${bad.join(', ') || 'none'})`);
    }
    this.tenantClaim = options.tenantClaim ?? 'berth_tenant';
    this.clockToleranceS = options.clockToleranceS ?? 30;
    const source = options.keySource;
    this.key = source.kind === 'jwks'
      ? createRemoteJWKSet(new URL(source.url), {
          // A slow JWKS endpoint must not hold requests: past this the caller is refused.
          timeoutDuration: source.timeoutMs,
          // An attacker sending random kids must not turn us into a JWKS request amplifier.
          cooldownDuration: source.cooldownMs ?? 30_000,
        })
      : parseVerificationKey(source.text);
  }

  async authenticate(bearer: string): Promise<AuthResult> {
    if (bearer === '') return { kind: 'refused', reason: 'missing' };
    let payload: Record<string, unknown>;
    try {
      const verifyOptions = {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: this.algorithms,
        clockTolerance: this.clockToleranceS,
        requiredClaims: ['exp'],
        ...(this.options.now ? { currentDate: new Date(this.options.now()) } : {}),
      };
      // Two calls only because jose overloads jwtVerify on the key's type.
      const result = typeof this.key === 'function'
        ? await jwtVerify(bearer, this.key, verifyOptions)
        : await jwtVerify(bearer, this.key, verifyOptions);
      payload = result.payload;
    } catch (error) {
      if (isKeySourceFailure(error)) this.options.onKeySourceError?.(error);
      return { kind: 'refused', reason: 'invalid' };
    }
    const tenant = payload[this.tenantClaim];
    if (typeof tenant !== 'string' || !findTenant(this.options.tenants(), tenant)) return { kind: 'refused', reason: 'invalid' };
    return { kind: 'ok', principal: { kind: 'tenant', tenant } };
  }
}

/**
 * A PEM public key becomes a KeyObject (a PEM has no kid, so any kid matches); a JWK or JWK set
 * becomes a local key set, so a kid the token names must be one it holds. Private and symmetric
 * keys are rejected: the gateway only ever verifies.
 */
export function parseVerificationKey(text: string): JWTVerifyGetKey | KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) {
    if (!trimmed.startsWith('-----BEGIN PUBLIC KEY-----')) throw new Error('the JWT key file must hold a PUBLIC KEY PEM (SPKI), not a private key or certificate');
    return createPublicKey(trimmed);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw new Error('the JWT key file must hold a PEM public key, a JWK or a JWK set');
  }
  const keys = (isRecord(parsed) && Array.isArray(parsed.keys) ? parsed.keys : [parsed]) as unknown[];
  for (const jwk of keys) {
    if (!isRecord(jwk) || typeof jwk.kty !== 'string') throw new Error('the JWT key file holds something that is not a JWK');
    if (jwk.kty === 'oct' || 'd' in jwk) throw new Error('the JWT key file must hold public keys only (no private or symmetric keys)');
  }
  return createLocalJWKSet({ keys: keys as JWK[] });
}

/** Failures of the key source (not of the token): worth an operator's attention. */
function isKeySourceFailure(error: unknown): boolean {
  if (!(error instanceof errors.JOSEError)) return true; // fetch itself failed: refused, connection reset…
  return error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || error.code === 'ERR_JOSE_GENERIC';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
