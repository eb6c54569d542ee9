// The egress gateway's public surface, for its wiring (stack.ts: `berth start` and the `berth
// gateway egress` command). Import from '@berth/gateway/egress'.

export { createEgressServer, type EgressServer, type EgressServerOptions } from './egress-server.js';
export { DEFAULT_EGRESS_LIMITS, type EgressLimits } from './egress-context.js';
export type { EgressLogger, ResolvedAddress, Resolver, TenantEgressPolicy } from './egress-types.js';
export type { TokenBudget } from '../policy/budget.js';
export { compileAllowlist, decide, parseAllowlist, type Allowlist, type Decision } from '../policy/allowlist.js';
export { systemResolver } from './destination.js';
export { sourceMatchesBinding } from './proxy-auth.js';
export { sandboxEgressEnv, type SandboxEgressEnvInput } from './sandbox-env.js';
export * from './destination.js';
export * from './egress-metrics.js';
export * from './egress-server.js';
export * from './egress-types.js';
export * from './model-errors.js';
export * from './proxy-auth.js';
export * from './sandbox-env.js';
export * from './usage-meter.js';
