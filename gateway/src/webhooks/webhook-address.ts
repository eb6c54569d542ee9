// Where a webhook may be sent: turns an endpoint URL into the one address the sender dials, or a
// refusal. Neighbours: policy/host-parse.ts and policy/address-class.ts (the egress gateway's
// own rules, reused so webhooks and agents share one definition of "special address"),
// webhook-sender.ts (dials the returned address, never the name).
//
// Security control against SSRF: a tenant writes its webhook URLs, so without this a tenant could
// make the gateway POST into the cluster (Redis, the Kubernetes API, cloud metadata). Loopback,
// private, link-local, metadata and every other special-purpose address are refused, whether
// written as a literal or reached through a name, unless the operator set allowPrivate
// (BERTH_WEBHOOK_ALLOW_PRIVATE=1, for tests and development). The name is resolved here once and
// the sender connects to the vetted answer, so a rebinding resolver cannot swap it afterwards.

import { classifyBytes } from '../policy/address-class.js';
import { parseHost } from '../policy/host-parse.js';
import type { Resolver } from '../policy/resolver.js';

export type WebhookTarget =
  | { kind: 'dial'; url: URL; address: string; family: 4 | 6; port: number; servername: string | undefined }
  /** The address rules forbid it: permanent until the file or DNS changes. */
  | { kind: 'refused'; detail: string }
  /** No answer from the resolver: worth another attempt later. */
  | { kind: 'unresolved'; detail: string };

export interface AddressOptions {
  resolver: Resolver;
  allowPrivate: boolean;
  /** Upper bound on one resolution, in ms. */
  timeoutMs: number;
}

export async function resolveWebhookTarget(rawUrl: string, options: AddressOptions): Promise<WebhookTarget> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { kind: 'refused', detail: 'not a URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { kind: 'refused', detail: `scheme ${url.protocol} is not http or https` };
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const host = parseHost(url.hostname);
  if (!host) return { kind: 'refused', detail: 'the host is neither a name nor an IP address' };
  if (host.kind !== 'name') {
    const cls = classifyBytes(host.bytes);
    if (cls.special && !options.allowPrivate) return { kind: 'refused', detail: `the URL names a ${cls.range} address` };
    return { kind: 'dial', url, address: host.address, family: host.kind === 'ipv4' ? 4 : 6, port, servername: undefined };
  }
  let answers;
  try {
    answers = await withTimeout(options.resolver(host.name), options.timeoutMs);
  } catch {
    return { kind: 'unresolved', detail: `could not resolve ${host.name}` };
  }
  if (options.allowPrivate) {
    const first = answers[0];
    if (!first) return { kind: 'unresolved', detail: `${host.name} has no addresses` };
    return { kind: 'dial', url, address: first.address, family: first.family, port, servername: host.name };
  }
  // Every answer is vetted, not just the one dialled: an answer mixing public and special
  // addresses is refused whole, as the egress gateway does.
  let first: { address: string; family: 4 | 6 } | undefined;
  for (const answer of answers) {
    const parsed = parseHost(answer.address);
    if (!parsed || parsed.kind === 'name') return { kind: 'unresolved', detail: `the resolver returned a non-address for ${host.name}` };
    const cls = classifyBytes(parsed.bytes);
    if (cls.special) return { kind: 'refused', detail: `${host.name} resolves to a ${cls.range} address` };
    first ??= { address: parsed.address, family: parsed.kind === 'ipv4' ? 4 : 6 };
  }
  if (!first) return { kind: 'unresolved', detail: `${host.name} has no addresses` };
  return { kind: 'dial', url, address: first.address, family: first.family, port, servername: host.name };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('resolution timed out')), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
