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

export type { ResolvedAddress, Resolver } from '../policy/resolver.js';

export type EgressLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
