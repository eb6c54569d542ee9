// Authenticates a sandbox at the egress gateway: takes the session credential from the request
// (Proxy-Authorization for the forward proxy; x-api-key or Authorization: Bearer for the model
// proxy), verifies it, then checks it against the session records. Neighbours: credentials/ (signature
// and expiry), egress-server.ts (maps reasons to 401/407/503).
//
// Two kinds of credential arrive: the session credential (a JWT naming tenant, session and
// sandbox, minted at claim) and a sandbox's own egress key (protocol/egress-key.ts: random, drawn
// inside a standby before any claim, so its CLI starts with it). A key names nothing: it is
// looked up by its SHA-256 among the sandbox bindings, and names a session only while that
// session's bound sandbox carries that hash. Before the claim binds it, and after the binding
// goes, it is refused like a revoked credential.
//
// Security control, revocation: a credential is honoured only while its session still exists,
// belongs to the credential's tenant, and is bound to the credential's sandbox. Release (or a
// move to a new sandbox) clears or replaces that binding in the store, so the old sandbox's
// credential stops working on every replica at once, long before it expires. Optionally the
// request's source address must be the bound sandbox's host (checkSource): that is meaningful
// where each sandbox has its own address (Kubernetes pod IPs), not for local processes (all
// loopback) or Modal (egress is NATed).

import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { egressKeySha256, isEgressKey } from '@berth/protocol';
import type { SessionCredentials } from '../credentials/credentials.js';
import type { SandboxBinding, SessionRecord } from '../store/session-records.js';
import type { Store } from '../store/store.js';
import type { TenantEgressPolicy } from './egress-types.js';

export type Door = 'proxy' | 'model';

export interface EgressPrincipal {
  tenant: string;
  sessionId: string;
  sandboxId: string;
  policy: TenantEgressPolicy;
}

export type AuthFailure =
  | 'credential_missing'
  | 'credential_invalid'
  | 'credential_revoked'
  | 'tenant_unknown'
  | 'source_mismatch'
  | 'store_unavailable';

export type ProxyAuthResult = { ok: true; principal: EgressPrincipal } | { ok: false; reason: AuthFailure };

export interface ProxyAuthenticatorOptions {
  credentials: SessionCredentials;
  /** Session records (revocation) and the sandbox bindings (egress keys). */
  store: Pick<Store, 'sessions' | 'bindings'>;
  tenants: (name: string) => TenantEgressPolicy | undefined;
  /** Optional source check; see sourceMatchesBinding. Default: no check. */
  checkSource?: (binding: SandboxBinding, remoteAddress: string | undefined) => boolean;
}

export type ProxyAuthenticator = (headers: IncomingHttpHeaders, door: Door, remoteAddress: string | undefined) => Promise<ProxyAuthResult>;

export function createProxyAuthenticator(options: ProxyAuthenticatorOptions): ProxyAuthenticator {
  return async (headers, door, remoteAddress) => {
    const token = door === 'proxy' ? proxyCredential(headers) : modelCredential(headers);
    if (token === null) return { ok: false, reason: 'credential_missing' };
    let session: SessionRecord | null;
    let tenant: string;
    let sessionId: string;
    let sandboxId: string;
    try {
      if (isEgressKey(token)) {
        // The key's session, if any binds it; the record is read again below, as for a JWT.
        const keySha256 = egressKeySha256(token);
        const bound = await options.store.bindings.sessionForEgressKey(keySha256);
        session = bound === null ? null : await options.store.sessions.getSession(bound);
        if (!session?.sandbox || session.sandbox.egressKeySha256 !== keySha256) return { ok: false, reason: 'credential_revoked' };
        ({ tenant, id: sessionId } = session);
        sandboxId = session.sandbox.sandboxId;
      } else {
        const verified = await options.credentials.verify(token);
        if (!verified.ok) return { ok: false, reason: 'credential_invalid' };
        ({ tenant, sessionId, sandboxId } = verified.claims);
        session = await options.store.sessions.getSession(sessionId);
      }
    } catch {
      return { ok: false, reason: 'store_unavailable' };
    }
    if (!session?.sandbox || session.tenant !== tenant || session.sandbox.sandboxId !== sandboxId) {
      return { ok: false, reason: 'credential_revoked' };
    }
    if (options.checkSource && !options.checkSource(session.sandbox, remoteAddress)) return { ok: false, reason: 'source_mismatch' };
    const policy = options.tenants(tenant);
    if (!policy) return { ok: false, reason: 'tenant_unknown' };
    return { ok: true, principal: { tenant, sessionId, sandboxId, policy } };
  };
}

/** `Basic base64(user:credential)` (an empty password falls back to the user part) or `Bearer credential`. */
export function proxyCredential(headers: IncomingHttpHeaders): string | null {
  const value = headers['proxy-authorization'];
  if (typeof value !== 'string') return null;
  const [scheme, param] = value.trim().split(/\s+/, 2);
  if (!scheme || !param) return null;
  if (scheme.toLowerCase() === 'bearer') return param;
  if (scheme.toLowerCase() !== 'basic') return null;
  const decoded = Buffer.from(param, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return decoded || null;
  const password = decodeURIComponentSafe(decoded.slice(colon + 1));
  return password !== '' ? password : decoded.slice(0, colon) || null;
}

/** x-api-key (what the CLI sends from ANTHROPIC_API_KEY) or Authorization: Bearer (ANTHROPIC_AUTH_TOKEN). */
export function modelCredential(headers: IncomingHttpHeaders): string | null {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return apiKey;
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const match = /^Bearer\s+(\S+)$/i.exec(auth.trim());
    if (match) return match[1]!;
  }
  return null;
}

/** A checkSource for backends where each sandbox has its own address: the binding URL's host. */
export function sourceMatchesBinding(binding: SandboxBinding, remoteAddress: string | undefined): boolean {
  if (!remoteAddress) return false;
  const bound = new URL(binding.url).hostname.replace(/^\[|\]$/g, '');
  const source = remoteAddress.startsWith('::ffff:') && isIP(remoteAddress.slice(7)) === 4 ? remoteAddress.slice(7) : remoteAddress;
  return bound === source;
}

// Clients percent-encode userinfo from a proxy URL; a JWT has nothing to encode, but be lenient.
function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
