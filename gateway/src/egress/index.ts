// The egress gateway's public surface, for the lead's wiring (`berth start`, egress-main) and
// the ingress `GET /api/usage` route. Import from '@berth/gateway/egress/index'.

export { createEgressServer, type EgressServer, type EgressServerOptions } from './egress-server.js';
export { DEFAULT_EGRESS_LIMITS, type EgressLimits } from './egress-context.js';
export type { EgressLogger, ResolvedAddress, Resolver, TenantEgressPolicy, TokenBudget } from './egress-types.js';
export { compileAllowlist, decide, parseAllowlist, type Allowlist, type Decision } from './allowlist.js';
export { systemResolver } from './destination.js';
export { sourceMatchesBinding } from './proxy-auth.js';
export { tenantUsageReport, type UsageReportBody } from './usage-report.js';
export { sandboxEgressEnv, type SandboxEgressEnvInput } from './sandbox-env.js';
