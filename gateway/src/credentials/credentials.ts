// Session credentials: the short-lived JWT a sandbox uses instead of the real model key, both
// as the model API key and as the forward-proxy password. Minted at claim, bound to tenant,
// session and sandbox. This module only signs and verifies (jose, HS256, `kid` for rotation);
// whether the session still has that sandbox (revocation on release) is checked against the
// store's session records by egress/proxy-auth.ts, because that is the state shared across replicas.
// Neighbours: credential-keys.ts (the keys), egress/proxy-auth.ts (the one verifier user).
//
// Security control: algorithms are pinned to HS256, issuer and audience are checked, an
// unknown kid is refused, and verify() reports a reason code, never the token.

import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { randomUUID } from 'node:crypto';
import type { CredentialKeys } from './credential-keys.js';

export const CREDENTIAL_ISSUER = 'berth-gateway';
export const CREDENTIAL_AUDIENCE = 'berth-egress';

export interface CredentialSubject {
  tenant: string;
  sessionId: string;
  sandboxId: string;
}

export interface CredentialClaims extends CredentialSubject {
  /** Unix ms. */
  expiresAt: number;
  kid: string;
}

export interface MintedCredential {
  token: string;
  /** Unix ms. */
  expiresAt: number;
}

export type CredentialRejection = 'malformed' | 'unknown_key' | 'bad_signature' | 'expired' | 'invalid_claims';

export type VerifyResult = { ok: true; claims: CredentialClaims } | { ok: false; reason: CredentialRejection };

export interface SessionCredentials {
  mint(subject: CredentialSubject): Promise<MintedCredential>;
  verify(token: string): Promise<VerifyResult>;
}

export interface SessionCredentialsOptions {
  keys: CredentialKeys;
  /** Unix ms clock; tests inject one. */
  now?: () => number;
  /**
   * Lifetime in seconds. Default 3600: long enough for a long agent turn, short enough that a
   * copied credential is soon useless. Release revokes earlier (see proxy-auth.ts). A session
   * that outlives its credential needs a fresh one (re-mint on a new claim or per turn).
   */
  ttlS?: number;
  /**
   * Accepted clock skew between replicas, in seconds. Default 5: replicas run NTP; more would
   * stretch every credential's life.
   */
  clockToleranceS?: number;
}

// Short claim names keep the token small; it rides on every model call and proxy request.
interface BerthPayload extends JWTPayload {
  ten?: unknown;
  sid?: unknown;
  sbx?: unknown;
}

export function createSessionCredentials(options: SessionCredentialsOptions): SessionCredentials {
  const now = options.now ?? Date.now;
  const ttlS = options.ttlS ?? 3600;
  const toleranceS = options.clockToleranceS ?? 5;
  if (!Number.isInteger(ttlS) || ttlS < 1) throw new TypeError('ttlS must be a positive integer');
  const signer = options.keys[0];
  const byKid = new Map(options.keys.map((k) => [k.kid, k.secret]));

  return {
    async mint(subject) {
      const issuedAtS = Math.floor(now() / 1000);
      const expS = issuedAtS + ttlS;
      const token = await new SignJWT({ ten: subject.tenant, sid: subject.sessionId, sbx: subject.sandboxId })
        .setProtectedHeader({ alg: 'HS256', kid: signer.kid, typ: 'JWT' })
        .setIssuer(CREDENTIAL_ISSUER)
        .setAudience(CREDENTIAL_AUDIENCE)
        .setIssuedAt(issuedAtS)
        .setExpirationTime(expS)
        .setJti(randomUUID())
        .sign(signer.secret);
      return { token, expiresAt: expS * 1000 };
    },

    async verify(token) {
      if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token) || token.length > 4096) {
        return { ok: false, reason: 'malformed' };
      }
      let kid = '';
      try {
        const { payload, protectedHeader } = await jwtVerify<BerthPayload>(
          token,
          async (header) => {
            kid = header.kid ?? '';
            const secret = byKid.get(kid);
            if (!secret) throw new UnknownKeyError();
            return secret;
          },
          {
            algorithms: ['HS256'],
            issuer: CREDENTIAL_ISSUER,
            audience: CREDENTIAL_AUDIENCE,
            currentDate: new Date(now()),
            clockTolerance: toleranceS,
            requiredClaims: ['exp', 'iat'],
          },
        );
        const { ten, sid, sbx, exp } = payload;
        if (typeof ten !== 'string' || typeof sid !== 'string' || typeof sbx !== 'string' || typeof exp !== 'number') {
          return { ok: false, reason: 'invalid_claims' };
        }
        return { ok: true, claims: { tenant: ten, sessionId: sid, sandboxId: sbx, expiresAt: exp * 1000, kid: protectedHeader.kid ?? kid } };
      } catch (error) {
        return { ok: false, reason: rejectionOf(error) };
      }
    },
  };
}

class UnknownKeyError extends Error {}

function rejectionOf(error: unknown): CredentialRejection {
  if (error instanceof UnknownKeyError) return 'unknown_key';
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return 'invalid_claims';
  return 'malformed';
}
