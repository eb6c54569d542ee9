// Per-pod AGENT_AUTH_TOKEN without any Secret in the cluster. The token is derived, by every
// gateway replica alike, from a gateway-held key and public per-pod facts (pod name, a random
// nonce annotation); the pod is given only SHA-256(token) in its environment. Reading the pod
// object therefore never reveals a usable token, and the gateway's RBAC needs no `secrets`
// verbs at all. See README.md, "The agent token". Security control: keep the key out of logs.

import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenKey {
  /** Key id written to the pod's annotation, so rotation keeps old pods usable. */
  kid: string;
  /** Key material: raw bytes, or a base64 string as in BERTH_CREDENTIAL_KEYS. */
  secret: Uint8Array | string;
}

/** Domain separation: the same input key may sign session credentials elsewhere. */
const HKDF_INFO = 'berth kubernetes agent token v1';

export class AgentTokenKeyring {
  private readonly keys = new Map<string, Buffer>();
  readonly signingKid: string;

  /** The first key derives tokens for new pods; all keys serve existing pods. */
  constructor(keys: readonly TokenKey[]) {
    if (keys.length === 0) throw new Error('AgentTokenKeyring needs at least one key');
    for (const key of keys) {
      const raw = typeof key.secret === 'string' ? Buffer.from(key.secret, 'base64') : Buffer.from(key.secret);
      if (raw.length < 16) throw new Error(`token key ${key.kid} is shorter than 16 bytes`);
      this.keys.set(key.kid, Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), HKDF_INFO, 32)));
    }
    this.signingKid = keys[0]!.kid;
  }

  /** A keyring with one random key: tokens die with this process, so single-replica use only. */
  static ephemeral(): AgentTokenKeyring {
    return new AgentTokenKeyring([{ kid: `ephemeral-${randomBytes(4).toString('hex')}`, secret: randomBytes(32) }]);
  }

  has(kid: string): boolean {
    return this.keys.has(kid);
  }

  /** The token for a pod, or null when its key id is not in this keyring (rotated out). */
  tokenFor(kid: string, podName: string, nonce: string): string | null {
    const key = this.keys.get(kid);
    if (!key) return null;
    return createHmac('sha256', key).update(`${podName}\n${nonce}`, 'utf8').digest('base64url');
  }
}

export function newTokenNonce(): string {
  return randomBytes(12).toString('base64url');
}

/** Hex SHA-256 of a token: what the pod holds as AGENT_AUTH_TOKEN_SHA256. */
export function tokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time check of a presented token against a stored hash (the agent's side). */
export function tokenMatchesSha256(token: string, sha256Hex: string): boolean {
  const expected = Buffer.from(sha256Hex, 'hex');
  const actual = createHash('sha256').update(token, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
