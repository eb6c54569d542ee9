// The egress role's composition root: the model proxy and forward proxy, listening, with their
// own /metrics port when configured. Takes the shared parts (tenants, store, credentials) and
// nothing of the ingress: a cluster runs it as its own Deployment (`berth gateway --egress-only`).

import type { Registry } from 'prom-client';
import type { GatewayConfig } from '../config.js';
import { compileAllowlist, createEgressServer, type Resolver, type TenantEgressPolicy } from '../egress/index.js';
import { sourceMatchesBinding } from '../egress/proxy-auth.js';
import type { Logger } from '../log.js';
import { collectProcessMetrics, serveMetrics } from '../metrics.js';
import { findTenant, type Tenant } from '../tenants/tenant.js';
import type { SharedParts } from './shared-parts.js';

export interface EgressRoleOptions {
  config: Readonly<GatewayConfig>;
  /** The process environment: the real model keys are read from it, by this role only. */
  env: Record<string, string | undefined>;
  log: Logger;
  registry: Registry;
  modelUpstreamUrl?: string;
  resolver?: Resolver;
  /** True once an isolated local backend runs: a credential is then honoured only from its own sandbox's address. */
  sourceBound: () => boolean;
}

export interface RunningEgressRole {
  url: string;
  metricsUrl: string | undefined;
}

export async function startEgressRole(parts: SharedParts, options: EgressRoleOptions, stops: Array<() => Promise<void>>): Promise<RunningEgressRole> {
  const { config, env, log, registry } = options;
  const { tenants } = parts;
  const egress = createEgressServer({
    credentials: parts.credentials,
    store: parts.store,
    tenants: (name) => egressPolicy(findTenant(tenants.current(), name)),
    upstreamUrl: options.modelUpstreamUrl ?? config.modelUpstreamUrl,
    realKeyFor: (name) => realKeyFor(findTenant(tenants.current(), name), env),
    registry,
    logger: log.child({ component: 'egress' }),
    ...(config.egressPublicUrl ? { publicUrl: config.egressPublicUrl } : {}),
    ...(options.resolver ? { resolver: options.resolver } : {}),
    checkSource: (binding, remoteAddress) => !options.sourceBound() || sourceMatchesBinding(binding, remoteAddress),
  });
  const address = await egress.listen(config.egressPort, config.egressHost);
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  stops.push(() => egress.close());
  collectProcessMetrics(registry);
  let metricsUrl: string | undefined;
  if (config.egressMetricsPort !== undefined) {
    const metricsServer = await serveMetrics(registry, config.egressMetricsPort, config.egressHost);
    metricsUrl = metricsServer.url;
    stops.push(() => metricsServer.close());
  }
  return { url, metricsUrl };
}

/** Compiled once per tenant object; a reload makes new tenant objects, so the cache follows it. */
const policies = new WeakMap<Tenant, TenantEgressPolicy>();

function egressPolicy(tenant: Tenant | undefined): TenantEgressPolicy | undefined {
  if (!tenant) return undefined;
  let policy = policies.get(tenant);
  if (!policy) {
    policy = { allowlist: compileAllowlist(tenant.egress.allow) };
    if (tenant.limits.tokenBudget) policy.tokenBudget = tenant.limits.tokenBudget;
    policies.set(tenant, policy);
  }
  return policy;
}

/** A tenant's own key when it names one, else the global ANTHROPIC_API_KEY. Egress role only. */
function realKeyFor(tenant: Tenant | undefined, env: Record<string, string | undefined>): string | undefined {
  if (!tenant) return undefined;
  if (tenant.modelApiKeyEnv) return env[tenant.modelApiKeyEnv];
  return env.ANTHROPIC_API_KEY;
}
