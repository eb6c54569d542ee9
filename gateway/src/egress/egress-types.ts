// Types the egress gateway shares with whoever wires it (the lead's `berth start` and
// egress-main): the per-tenant policy it needs, the resolver port, the logger subset.
// No logic here.

import type { Logger } from 'pino';
import type { Allowlist } from './allowlist.js';

export interface TokenBudget {
  /** Tokens (input + output + cache creation + cache read) per window. */
  tokens: number;
  /** Window length in seconds; windows are fixed, aligned to the Unix epoch. */
  periodS: number;
}

/** What the egress gateway needs to know about one tenant. */
export interface TenantEgressPolicy {
  /** Compiled with parseAllowlist/compileAllowlist at config load. */
  allowlist: Allowlist;
  tokenBudget?: TokenBudget;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Name → addresses, called exactly once per proxied connection. Injected so tests run offline;
 * the default is dns.lookup (getaddrinfo: /etc/hosts, then DNS), which is what clients expect.
 */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export type EgressLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
