// Types the egress gateway shares with whoever wires it (stack.ts for `berth start` and the
// `berth gateway egress` command): the per-tenant policy it needs, the resolver port, the logger
// subset. No logic here.

import type { Logger } from 'pino';
import type { Allowlist } from '../policy/allowlist.js';
import type { TokenBudget } from '../policy/budget.js';

export type { TokenBudget };

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
