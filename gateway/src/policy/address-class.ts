// Classifies an IP address as globally routable or one of the special-purpose ranges the egress
// gateway refuses unless an allowlist entry names the address. Pure; neighbours: host-parse.ts
// (gives the bytes), allowlist.ts (applies the verdict). It does not know about allowlists.
//
// Security control. Sources: IANA IPv4 and IPv6 Special-Purpose Address Registries, plus
// multicast, the reserved 240/4, deprecated IPv6 site-local and cloud metadata endpoints.
// Policy, stricter than "globally reachable" in the registries on purpose: every registry entry
// is refused (AS112, AMT, TEREDO, 6to4 included) because no agent has a reason to reach them and
// some tunnel to arbitrary IPv4. IPv6 outside 2000::/3 (not global unicast) is refused too.
// Two translation prefixes are judged by the IPv4 address they embed, because that is where the
// packet goes: ::ffff:0:0/96 (IPv4-mapped; the kernel connects to the IPv4 address) and the
// well-known NAT64 prefix 64:ff9b::/96 (the network's NAT64 translates it). A public embedded
// address is allowed there; a private one is refused with the inner range named.

import { parseHost } from './host-parse.js';

export interface AddressClass {
  /** True when the address must be refused unless an allowlist entry names it. */
  special: boolean;
  /** 'global' or the special range's name, e.g. 'loopback', 'ipv4-mapped:private'. */
  range: string;
}

type Range = readonly [prefix: number[], bits: number, name: string];

// Order matters: more specific entries (metadata) come before the range that contains them.
const V4_RANGES: readonly Range[] = [
  [[169, 254, 169, 254], 32, 'metadata'], // AWS, GCP, Azure, OpenStack instance metadata
  [[100, 100, 100, 200], 32, 'metadata'], // Alibaba Cloud metadata
  [[192, 0, 0, 192], 32, 'metadata'], // Oracle Cloud metadata
  [[0, 0, 0, 0], 8, 'this-network'],
  [[10, 0, 0, 0], 8, 'private'],
  [[100, 64, 0, 0], 10, 'shared-cgnat'],
  [[127, 0, 0, 0], 8, 'loopback'],
  [[169, 254, 0, 0], 16, 'link-local'],
  [[172, 16, 0, 0], 12, 'private'],
  [[192, 0, 0, 0], 24, 'ietf-protocol'], // incl. DS-Lite, PCP/TURN anycast, NAT64 discovery
  [[192, 0, 2, 0], 24, 'documentation'],
  [[192, 31, 196, 0], 24, 'as112'],
  [[192, 52, 193, 0], 24, 'amt'],
  [[192, 88, 99, 0], 24, '6to4-relay'],
  [[192, 168, 0, 0], 16, 'private'],
  [[192, 175, 48, 0], 24, 'as112'],
  [[198, 18, 0, 0], 15, 'benchmarking'],
  [[198, 51, 100, 0], 24, 'documentation'],
  [[203, 0, 113, 0], 24, 'documentation'],
  [[224, 0, 0, 0], 4, 'multicast'],
  [[255, 255, 255, 255], 32, 'broadcast'],
  [[240, 0, 0, 0], 4, 'reserved'],
];

// Prefixes as 16 bytes. Translation prefixes are handled before this table.
const V6_RANGES: readonly Range[] = [
  [v6('fd00:ec2::254'), 128, 'metadata'], // AWS instance metadata over IPv6
  [v6('::'), 128, 'unspecified'],
  [v6('::1'), 128, 'loopback'],
  [v6('::ffff:0:0:0'), 96, 'ipv4-translated'],
  [v6('::'), 96, 'ipv4-compatible'],
  [v6('64:ff9b:1::'), 48, 'nat64-local'],
  [v6('100::'), 64, 'discard'],
  [v6('100:0:0:1::'), 64, 'dummy'],
  [v6('2001:db8::'), 32, 'documentation'],
  [v6('2001::'), 23, 'ietf-protocol'], // incl. TEREDO, ORCHIDv2, benchmarking
  [v6('2002::'), 16, '6to4'],
  [v6('2620:4f:8000::'), 48, 'as112'],
  [v6('3fff::'), 20, 'documentation'],
  [v6('5f00::'), 16, 'srv6-sid'],
  [v6('fc00::'), 7, 'unique-local'],
  [v6('fe80::'), 10, 'link-local'],
  [v6('fec0::'), 10, 'site-local'],
  [v6('ff00::'), 8, 'multicast'],
];

const MAPPED = v6('::ffff:0:0');
const NAT64 = v6('64:ff9b::');

/** Classifies IP bytes (4 or 16). */
export function classifyBytes(bytes: Uint8Array): AddressClass {
  if (bytes.length === 4) return classifyV4(bytes);
  if (matches(bytes, MAPPED, 96)) return embedded(bytes, 'ipv4-mapped');
  if (matches(bytes, NAT64, 96)) return embedded(bytes, 'nat64');
  for (const [prefix, bits, name] of V6_RANGES) if (matches(bytes, prefix, bits)) return { special: true, range: name };
  if ((bytes[0]! & 0xe0) !== 0x20) return { special: true, range: 'not-global-unicast' };
  return { special: false, range: 'global' };
}

/** Classifies an IP literal in any spelling host-parse accepts; a non-IP is an error. */
export function classifyAddress(address: string): AddressClass {
  const parsed = parseHost(address);
  if (!parsed || parsed.kind === 'name') throw new TypeError(`not an IP address: ${address}`);
  return classifyBytes(parsed.bytes);
}

function classifyV4(bytes: Uint8Array): AddressClass {
  for (const [prefix, bits, name] of V4_RANGES) if (matches(bytes, prefix, bits)) return { special: true, range: name };
  return { special: false, range: 'global' };
}

function embedded(bytes: Uint8Array, via: string): AddressClass {
  const inner = classifyV4(bytes.subarray(12));
  return inner.special ? { special: true, range: `${via}:${inner.range}` } : { special: false, range: `${via}:global` };
}

function matches(bytes: Uint8Array | number[], prefix: Uint8Array | number[], bits: number): boolean {
  for (let i = 0; i < bits; i += 8) {
    const take = Math.min(8, bits - i);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((bytes[i / 8] ?? 0) & mask) !== ((prefix[i / 8] ?? 0) & mask)) return false;
  }
  return true;
}

function v6(text: string): number[] {
  const parsed = parseHost(text);
  if (!parsed || parsed.kind !== 'ipv6') throw new Error(`bad table entry ${text}`);
  return [...parsed.bytes];
}
