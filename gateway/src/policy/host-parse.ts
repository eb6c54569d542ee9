// Host and authority parsing for the egress gateway: turns every spelling a client, a URL parser
// or the C resolver accepts for an IP address into one canonical form, so the allowlist and the
// address classifier never compare strings that merely look different. Pure: no DNS, no sockets.
// Neighbours: allowlist.ts (matches the result), address-class.ts (classifies IP bytes).
// It does not decide anything; a name is only normalised (lower case, IDNA, no trailing dot).
//
// Security control: IPv4 follows the WHATWG URL host parser (the same rules as inet_aton, which
// getaddrinfo applies): `0`, `127.1`, `0177.0.0.1`, `0x7f.0.0.1` and `2130706433` are all
// 127.0.0.1 to curl and glibc, so they are 127.0.0.1 here too. A host whose last label is numeric
// but is no valid IPv4 (`1.2.3.256`) is refused rather than treated as a name.

import { domainToASCII } from 'node:url';

export type ParsedHost =
  | { kind: 'ipv4'; address: string; bytes: Uint8Array }
  | { kind: 'ipv6'; address: string; bytes: Uint8Array; zone?: string }
  | { kind: 'name'; name: string };

export interface Authority {
  host: ParsedHost;
  /** The host as written (brackets kept), for decide(), which parses it again. */
  hostText: string;
  port: number;
}

/** Parses a host as it appears in a URL, a Host header or a CONNECT target; null when invalid. */
export function parseHost(raw: string): ParsedHost | null {
  if (raw.length === 0 || raw.length > 300) return null;
  if (raw.startsWith('[')) {
    if (!raw.endsWith(']')) return null;
    return parseIpv6WithZone(raw.slice(1, -1).replace(/%25/, '%'));
  }
  if (raw.includes(':')) return parseIpv6WithZone(raw);
  return parseNameOrIpv4(raw);
}

/** `host:port`, `[v6]:port`, or a bare host when `defaultPort` is given. */
export function parseAuthority(raw: string, defaultPort?: number): Authority | null {
  let hostPart = raw;
  let portPart: string | undefined;
  if (raw.startsWith('[')) {
    const close = raw.indexOf(']');
    if (close === -1) return null;
    hostPart = raw.slice(0, close + 1);
    const rest = raw.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return null;
      portPart = rest.slice(1);
    }
  } else {
    const colon = raw.lastIndexOf(':');
    if (colon !== -1) {
      if (raw.indexOf(':') !== colon) return null; // a bare IPv6 must be bracketed in an authority
      hostPart = raw.slice(0, colon);
      portPart = raw.slice(colon + 1);
    }
  }
  const host = parseHost(hostPart);
  if (!host) return null;
  const port = portPart === undefined ? defaultPort : parsePort(portPart);
  if (port === undefined || port === null) return null;
  return { host, hostText: hostPart, port };
}

/** Decimal 1..65535 only: no sign, no hex, at most 5 digits. */
export function parsePort(raw: string): number | null {
  if (!/^[0-9]{1,5}$/.test(raw)) return null;
  const port = Number(raw);
  return port >= 1 && port <= 65535 ? port : null;
}

/** The canonical string of a parsed host (IPv6 without zone and without brackets). */
export function hostKey(host: ParsedHost): string {
  return host.kind === 'name' ? host.name : host.address;
}

function parseNameOrIpv4(raw: string): ParsedHost | null {
  const labels = raw.split('.');
  if (labels.length > 1 && labels[labels.length - 1] === '') labels.pop(); // one trailing dot
  const last = labels[labels.length - 1] ?? '';
  if (endsInNumber(last)) {
    const bytes = parseIpv4Parts(labels);
    return bytes ? { kind: 'ipv4', address: bytes.join('.'), bytes } : null;
  }
  const joined = labels.join('.');
  // ASCII beyond letters, digits, '-', '_' and '.' is never part of a name (domainToASCII would
  // silently drop a trailing '/' or '?'); non-ASCII goes to IDNA.
  if (/[\x00-\x2c\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]/.test(joined)) return null;
  const ascii = domainToASCII(joined.toLowerCase());
  if (ascii === '' || ascii.length > 253) return null;
  for (const label of ascii.split('.')) {
    if (!/^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label)) return null;
  }
  return { kind: 'name', name: ascii };
}

// WHATWG "ends in a number": the last label is all decimal digits or 0x-prefixed hex.
function endsInNumber(label: string): boolean {
  return /^[0-9]+$/.test(label) || /^0x[0-9a-f]*$/i.test(label);
}

function parseIpv4Parts(labels: string[]): Uint8Array | null {
  if (labels.length === 0 || labels.length > 4) return null;
  const numbers: number[] = [];
  for (const label of labels) {
    const value = parseIpv4Number(label);
    if (value === null) return null;
    numbers.push(value);
  }
  const last = numbers.pop()!;
  if (numbers.some((n) => n > 255)) return null;
  if (last >= 256 ** (4 - numbers.length)) return null;
  let value = last;
  numbers.forEach((n, i) => (value += n * 256 ** (3 - i)));
  return new Uint8Array([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255]);
}

function parseIpv4Number(label: string): number | null {
  if (label === '') return null;
  let digits = label;
  let radix = 10;
  if (/^0x/i.test(label)) {
    digits = label.slice(2);
    radix = 16;
    if (digits === '') return 0; // WHATWG: "0x" is zero
  } else if (label.length > 1 && label.startsWith('0')) {
    digits = label.slice(1);
    radix = 8;
  }
  const pattern = radix === 16 ? /^[0-9a-f]+$/i : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!pattern.test(digits)) return null;
  const value = parseInt(digits, radix);
  return value <= 0xffffffff ? value : null;
}

function parseIpv6WithZone(raw: string): ParsedHost | null {
  const percent = raw.indexOf('%');
  const body = percent === -1 ? raw : raw.slice(0, percent);
  const zone = percent === -1 ? undefined : raw.slice(percent + 1);
  if (zone !== undefined && !/^[A-Za-z0-9._~-]{1,64}$/.test(zone)) return null;
  const bytes = parseIpv6Bytes(body);
  if (!bytes) return null;
  const parsed: ParsedHost = { kind: 'ipv6', address: formatIpv6(bytes), bytes };
  if (zone !== undefined) parsed.zone = zone;
  return parsed;
}

/** RFC 4291 text forms, including `::` and a trailing dotted quad (strict decimal there). */
export function parseIpv6Bytes(text: string): Uint8Array | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = parseWords(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? parseWords(halves[1]!, true) : [];
  if (!head || !tail) return null;
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return null;
  const words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[i * 2] = word >> 8;
    bytes[i * 2 + 1] = word & 255;
  });
  return bytes;
}

// One side of `::` as 16-bit words; a dotted quad is allowed only as the very last part.
function parseWords(half: string, quadAllowed: boolean): number[] | null {
  if (half === '') return [];
  const parts = half.split(':');
  const words: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.includes('.')) {
      if (!quadAllowed || i !== parts.length - 1) return null;
      const quad = part.split('.');
      if (quad.length !== 4 || quad.some((q) => !/^(?:0|[1-9][0-9]{0,2})$/.test(q) || Number(q) > 255)) return null;
      const [a, b, c, d] = quad.map(Number) as [number, number, number, number];
      words.push((a << 8) | b, (c << 8) | d);
    } else {
      if (!/^[0-9a-f]{1,4}$/i.test(part)) return null;
      words.push(parseInt(part, 16));
    }
  }
  return words;
}

/** RFC 5952 canonical text: lower case, longest zero run (≥ 2 groups) compressed. */
export function formatIpv6(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
