// startStack: the process's composition, in the order the architecture reads: the shared parts
// (tenants, store, credentials: roots/shared-parts.ts), then the egress role (roots/egress-root.ts),
// then the ingress role (roots/ingress-root.ts); they stop in reverse order. `berth start` runs both
// roles in one process; a cluster runs `berth gateway --ingress-only` and `--egress-only` as
// separate Deployments sharing Redis and the credential keys. Role settings that only make sense
// together are checked before anything starts (roots/role-config.ts: a ConfigError, exit 2).

import { Registry } from 'prom-client';
import type { SandboxBackend } from '@berth/orchestrator';
import type { GatewayConfig } from './config.js';
import type { Resolver } from './egress/index.js';
import type { RunningGateway } from './gateway.js';
import type { Logger } from './log.js';
import { startEgressRole } from './roots/egress-root.js';
import { startIngressRole } from './roots/ingress-root.js';
import { assertRolesConfigured } from './roots/role-config.js';
import { openSharedParts } from './roots/shared-parts.js';
import type { Store } from './store/store.js';
import type { TenantsSource } from './tenants/tenants-source.js';
import type { RunningWebhooks } from './webhooks/webhooks.js';

export interface StackOptions {
  config: Readonly<GatewayConfig>;
  /** The process environment (real model keys are read from it by the egress role only). */
  env: Record<string, string | undefined>;
  log: Logger;
  roles?: { ingress: boolean; egress: boolean };
  /** Overrides the model upstream (`berth start --offline-model` points it at the offline model). */
  modelUpstreamUrl?: string;
  /** Extra environment for local agent processes (tests: BERTH_AGENT_MAX_RETRIES…). */
  agentEnv?: Record<string, string>;
  /** Backend options beyond what config gives (tests: the fake cluster's kubeconfig…). */
  backendOptions?: Record<string, unknown>;
  /** The egress gateway's name resolver. Default: the system resolver (getaddrinfo). Tests map
   *  fake public names to loopback test servers, so the CONNECT path runs offline. */
  egressResolver?: Resolver;
  /** The resolver for webhook endpoint names. Default: the system resolver. */
  webhookResolver?: Resolver;
  /** How often the idle reaper runs, ms (default 15 s). Tests that tick it themselves set it long,
   *  so no tick of its own lands between their steps. */
  reaperIntervalMs?: number;
}

export interface RunningStack {
  ingressUrl: string | undefined;
  egressUrl: string | undefined;
  /** The egress role's own GET /metrics (BERTH_EGRESS_METRICS_PORT); undefined when not served. */
  egressMetricsUrl: string | undefined;
  store: Store;
  backend: SandboxBackend | undefined;
  tenants: TenantsSource;
  gateway: RunningGateway | undefined;
  /** The webhook sink and dispatcher (ingress role only). */
  webhooks: RunningWebhooks | undefined;
  registry: Registry;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const { config, env, log } = options;
  const roles = options.roles ?? { ingress: true, egress: true };
  assertRolesConfigured(config, roles, env);
  const registry = new Registry();
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const fn of stops.reverse()) await fn().catch((error: unknown) => log.warn({ err: error }, 'shutdown step failed'));
  };
  try {
    const parts = await openSharedParts(config, log, stops);
    // Set once an isolated local backend is up: its sandboxes each dial the egress gateway from
    // their own loopback address, so a credential is honoured only from its own sandbox.
    let sourceBound = false;
    const egress = roles.egress
      ? await startEgressRole(parts, {
        config,
        env,
        log,
        registry,
        sourceBound: () => sourceBound,
        ...(options.modelUpstreamUrl ? { modelUpstreamUrl: options.modelUpstreamUrl } : {}),
        ...(options.egressResolver ? { resolver: options.egressResolver } : {}),
      }, stops)
      : undefined;
    const ingress = roles.ingress
      ? await startIngressRole(parts, {
        config,
        env,
        log,
        registry,
        // roleProblems guarantees one of the two when the egress role runs elsewhere.
        egressPublicUrl: (config.egressPublicUrl ?? egress?.url)!,
        ...(options.agentEnv ? { agentEnv: options.agentEnv } : {}),
        ...(options.backendOptions ? { backendOptions: options.backendOptions } : {}),
        ...(options.webhookResolver ? { webhookResolver: options.webhookResolver } : {}),
        ...(options.reaperIntervalMs !== undefined ? { reaperIntervalMs: options.reaperIntervalMs } : {}),
      }, stops)
      : undefined;
    sourceBound = roles.egress && (ingress?.backend as { isolated?: boolean } | undefined)?.isolated === true;
    return {
      ingressUrl: ingress?.gateway.url,
      egressUrl: egress?.url,
      egressMetricsUrl: egress?.metricsUrl,
      store: parts.store,
      backend: ingress?.backend,
      tenants: parts.tenants,
      gateway: ingress?.gateway,
      webhooks: ingress?.webhooks,
      registry,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
