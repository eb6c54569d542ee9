// A sandbox's own egress key, and the endpoint settings a sandbox reaches the egress gateway with.
// The key is what lets a standby's CLI start with its model endpoint and proxy already in its
// environment: the agent server draws it at boot, before any claim, and it never leaves the
// sandbox except in the sandbox's own requests to the egress gateway. At claim the bootstrap
// response names its SHA-256, the gateway binds that hash to the session in the store, and the
// egress gateway honours the key only while that binding holds: unusable before the claim,
// unusable after the session lets the sandbox go. Neighbours: agent-image/src/standby.ts (draws
// and uses it), gateway/src/egress/proxy-auth.ts (checks it), gateway/src/store/ (the binding).

import { createHash, randomBytes } from 'node:crypto';
import type { EgressSettings, ModelEndpoint } from './agent-api.js';

const EGRESS_KEY_PREFIX = 'bsk_';
/** 32 random bytes, base64url: 43 characters after the prefix. */
const EGRESS_KEY = /^bsk_[A-Za-z0-9_-]{43}$/;

/** A fresh egress key (256 bits from the system's CSPRNG). */
export function newEgressKey(): string {
  return EGRESS_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** Whether `token` has an egress key's shape (the egress gateway then looks it up, never verifies it as a JWT). */
export function isEgressKey(token: string): boolean {
  return EGRESS_KEY.test(token);
}

/** SHA-256 of a key, lowercase hex: what the store keeps and the bootstrap response names. */
export function egressKeySha256(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A well-formed key hash (64 lowercase hex digits). */
export function isEgressKeySha256(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

/**
 * The bootstrap's `model` and `egress` fields for a sandbox that reaches the egress gateway at
 * `publicUrl` with `credential` (a session credential or an egress key): the model API at the
 * gateway's origin and path, the forward proxy at its origin with the credential as the password
 * (which the CLI and curl send unprompted), and the gateway's host exempt from the proxy.
 */
export function egressEndpoint(publicUrl: string, credential: string): { model: ModelEndpoint; egress: EgressSettings } {
  const base = new URL(publicUrl);
  const proxy = new URL(base.origin);
  proxy.username = 'berth';
  proxy.password = credential;
  return {
    model: { baseUrl: base.origin + base.pathname.replace(/\/$/, ''), apiKey: credential },
    egress: { proxyUrl: proxy.href.replace(/\/$/, ''), noProxy: [base.hostname] },
  };
}

/**
 * Whether two endpoints are the same but for their credentials: same model URL, same proxy
 * (credentials aside) and the same hosts exempt from it.
 */
export function sameEgressEndpoint(a: { model: ModelEndpoint; egress?: EgressSettings | undefined }, b: { model: ModelEndpoint; egress?: EgressSettings | undefined }): boolean {
  if (a.model.baseUrl !== b.model.baseUrl) return false;
  if (!a.egress || !b.egress) return !a.egress && !b.egress;
  return withoutCredentials(a.egress.proxyUrl) === withoutCredentials(b.egress.proxyUrl) && a.egress.noProxy.join(',') === b.egress.noProxy.join(',');
}

function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.href;
  } catch {
    return '\0invalid';
  }
}
