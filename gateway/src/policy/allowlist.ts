// A tenant's egress allowlist: parse the entries from the tenants file once, then decide
// (host, port) and vet the addresses a name resolved to. Pure; neighbours: host-parse.ts,
// address-class.ts, destination.ts (does the one DNS lookup and calls vetAnswer).
//
// Entry syntax, and the decisions behind it (security control):
// - `api.github.com` exact name; `*.npmjs.org` any name below npmjs.org at any depth, but NOT
//   npmjs.org itself (list the apex separately: a wildcard naming its apex surprises people).
// - `:443` one port; `:*` any port; no port means 443 and 80 only: an entry names a web host,
//   reached by CONNECT (https) or absolute-form http (curl with http_proxy, package mirrors).
//   Every other port must be written down.
// - IP literals (`10.0.0.5:8443`, `[fd00::1]`, any IPv4 spelling) are address entries. They are
//   the only way a special-purpose address (loopback, private, metadata, …) becomes reachable:
//   the address itself must be named, a name that resolves there is not enough.
// - Names are compared after normalisation (lower case, IDNA, no trailing dot); IP literals by
//   their canonical text, so `127.1` and `0x7f.0.0.1` in a request meet `127.0.0.1` here.

import { classifyBytes } from './address-class.js';
import { hostKey, parseHost, parsePort, type ParsedHost } from './host-parse.js';

export const DEFAULT_PORTS: readonly number[] = [443, 80];

export interface AllowRule {
  kind: 'exact' | 'suffix' | 'address';
  /** Normalised name, the suffix without `*.`, or canonical IP text. */
  host: string;
  /** null = any port. */
  ports: readonly number[] | null;
  /** The entry as written, for logs and decisions. */
  entry: string;
}

export interface Allowlist {
  readonly rules: readonly AllowRule[];
}

export type DenyReason =
  | 'invalid_host'
  | 'not_allowlisted'
  | 'port_not_allowed'
  | 'resolution_failed'
  | 'special_address';

export type Decision =
  | { allow: true; host: ParsedHost; port: number; rule: string }
  | { allow: false; reason: DenyReason; detail: string };

export type AnswerVerdict =
  | { allow: true; address: string; family: 4 | 6 }
  | { allow: false; reason: 'special_address' | 'resolution_failed'; detail: string };

export type ParseResult = { ok: true; allowlist: Allowlist } | { ok: false; errors: string[] };

/** Parses every entry; reports all bad entries at once (config validation calls this). */
export function parseAllowlist(entries: readonly string[]): ParseResult {
  const rules: AllowRule[] = [];
  const errors: string[] = [];
  for (const entry of entries) {
    const rule = parseEntry(entry);
    if (typeof rule === 'string') errors.push(`egress allow entry ${JSON.stringify(entry)}: ${rule}`);
    else rules.push(rule);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, allowlist: { rules } };
}

/** Like parseAllowlist, but throws on bad entries (for code paths whose input was validated). */
export function compileAllowlist(entries: readonly string[]): Allowlist {
  const result = parseAllowlist(entries);
  if (!result.ok) throw new TypeError(result.errors.join('; '));
  return result.allowlist;
}

/** Is `host` (any spelling) on `port` allowed before resolution? */
export function decide(allowlist: Allowlist, rawHost: string, port: number): Decision {
  const host = parseHost(rawHost);
  if (!host) return { allow: false, reason: 'invalid_host', detail: 'host is not a valid name or IP address' };
  // A zone id picks a local interface: never a destination an allowlist can vouch for.
  if (host.kind === 'ipv6' && host.zone !== undefined) return { allow: false, reason: 'invalid_host', detail: 'IPv6 zone ids are refused' };
  const key = hostKey(host);
  const hostRules = allowlist.rules.filter((rule) => hostMatches(rule, host, key));
  if (hostRules.length === 0) return { allow: false, reason: 'not_allowlisted', detail: `${key} is not on the allowlist` };
  const rule = hostRules.find((r) => portMatches(r, port));
  if (!rule) return { allow: false, reason: 'port_not_allowed', detail: `${key} is allowlisted, but not on port ${port}` };
  return { allow: true, host, port, rule: rule.entry };
}

/** True when an address entry names `address` (canonical or any spelling) on `port`. */
export function namesAddress(allowlist: Allowlist, address: string, port: number): boolean {
  const parsed = parseHost(address);
  if (!parsed || parsed.kind === 'name') return false;
  return allowlist.rules.some((r) => r.kind === 'address' && r.host === parsed.address && portMatches(r, port));
}

/**
 * Vets a DNS answer for an allowed name. The whole answer is refused when any address is
 * special and not named: a name mixing public and private addresses is either misconfigured or
 * a rebinding attempt, and picking the "good" half would hide both. Otherwise the first address
 * wins, and the caller connects to exactly that address (no second lookup).
 */
export function vetAnswer(allowlist: Allowlist, addresses: readonly string[], port: number): AnswerVerdict {
  if (addresses.length === 0) return { allow: false, reason: 'resolution_failed', detail: 'the name has no addresses' };
  let first: { address: string; family: 4 | 6 } | undefined;
  for (const raw of addresses) {
    const parsed = parseHost(raw);
    if (!parsed || parsed.kind === 'name') return { allow: false, reason: 'resolution_failed', detail: 'resolver returned a non-address' };
    const cls = classifyBytes(parsed.bytes);
    if (cls.special && !namesAddress(allowlist, parsed.address, port)) {
      return { allow: false, reason: 'special_address', detail: `the name resolves to a ${cls.range} address that the allowlist does not name` };
    }
    first ??= { address: parsed.address, family: parsed.kind === 'ipv4' ? 4 : 6 };
  }
  return { allow: true, ...first! };
}

function hostMatches(rule: AllowRule, host: ParsedHost, key: string): boolean {
  if (rule.kind === 'address') return host.kind !== 'name' && rule.host === key;
  if (host.kind !== 'name') return false;
  if (rule.kind === 'exact') return rule.host === key;
  return key.endsWith(`.${rule.host}`);
}

function portMatches(rule: AllowRule, port: number): boolean {
  return rule.ports === null || rule.ports.includes(port);
}

function parseEntry(entry: string): AllowRule | string {
  const text = entry.trim();
  if (text === '') return 'empty entry';
  let hostText = text;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return 'unclosed [';
    hostText = text.slice(0, close + 1);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return 'expected :port after ]';
      portText = rest.slice(1);
    }
  } else if ((text.match(/:/g) ?? []).length === 1) {
    [hostText, portText] = text.split(':') as [string, string];
  }
  let ports: readonly number[] | null = DEFAULT_PORTS;
  if (portText === '*') ports = null;
  else if (portText !== undefined) {
    const port = parsePort(portText);
    if (port === null) return 'port must be 1..65535 or *';
    ports = [port];
  }
  const wildcard = hostText.startsWith('*.');
  if (!wildcard && hostText.includes('*')) return 'a wildcard is only allowed as a leading "*."';
  const host = parseHost(wildcard ? hostText.slice(2) : hostText);
  if (!host) return 'not a valid host name or IP address';
  if (host.kind !== 'name') {
    if (wildcard) return 'a wildcard needs a name, not an IP address';
    if (host.kind === 'ipv6' && host.zone !== undefined) return 'zone ids are not allowed';
    return { kind: 'address', host: host.address, ports, entry: text };
  }
  if (wildcard && !host.name.includes('.')) return 'a wildcard must name at least a two-label suffix (*.example.com)';
  return { kind: wildcard ? 'suffix' : 'exact', host: host.name, ports, entry: text };
}
