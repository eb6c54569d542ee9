// Turns a requested host and port into the one address the proxy will dial, or a refusal:
// allowlist decision first (no DNS for a refused name), then exactly one resolution, then the
// answer is vetted. Neighbours: allowlist.ts (pure rules), connect-tunnel.ts and forward-proxy.ts
// (dial the returned address, never the name).
//
// Security control against DNS rebinding: the name is resolved here once and the caller connects
// to the returned IP. A resolver that answers a public address now and a private one a moment
// later cannot redirect the connection, because there is no later lookup.

import { decide, vetAnswer, type Allowlist, type DenyReason } from '../policy/allowlist.js';
import type { Resolver } from './egress-types.js';

export type Destination =
  | { allow: true; address: string; family: 4 | 6; port: number; rule: string }
  | { allow: false; reason: DenyReason; detail: string };

export interface ResolveOptions {
  /** Upper bound on one resolution, in ms. Default 5000: getaddrinfo retries take seconds. */
  timeoutMs?: number;
}

/** getaddrinfo through libuv's thread pool; verbatim keeps the system's address order. */
export { systemResolver } from '../policy/resolver.js';

export async function resolveDestination(
  allowlist: Allowlist,
  rawHost: string,
  port: number,
  resolver: Resolver,
  options: ResolveOptions = {},
): Promise<Destination> {
  const decision = decide(allowlist, rawHost, port);
  if (!decision.allow) return decision;
  const { host } = decision;
  if (host.kind !== 'name') {
    // An IP literal passed decide() only through an address entry, which names it explicitly.
    return { allow: true, address: host.address, family: host.kind === 'ipv4' ? 4 : 6, port, rule: decision.rule };
  }
  let answers;
  try {
    answers = await withTimeout(resolver(host.name), options.timeoutMs ?? 5000);
  } catch {
    return { allow: false, reason: 'resolution_failed', detail: `could not resolve ${host.name}` };
  }
  const verdict = vetAnswer(allowlist, answers.map((a) => a.address), port);
  if (!verdict.allow) return verdict;
  return { allow: true, address: verdict.address, family: verdict.family, port, rule: decision.rule };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('resolution timed out')), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
