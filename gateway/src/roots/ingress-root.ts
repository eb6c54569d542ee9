// The ingress role's composition root: webhooks, the sandbox backend with its warm pools, the
// authenticator, and the caller API. Takes the shared parts and the egress gateway's public URL
// (sandboxes dial it), nothing else of the egress role: a cluster runs it as its own Deployment
// (`berth gateway --ingress-only`).

import { readFile } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import { createBackend, type SandboxBackend } from '@berth/orchestrator';
import type { Authenticator } from '../auth/authenticator.js';
import { CompositeAuthenticator } from '../auth/composite-authenticator.js';
import { JWTAuthenticator } from '../auth/jwt-authenticator.js';
import { StaticTokenAuthenticator } from '../auth/static-token-authenticator.js';
import type { GatewayConfig } from '../config.js';
import { sandboxEgressSettings } from '../egress/sandbox-env.js';
import type { Resolver } from '../egress/index.js';
import { startGateway, type RunningGateway } from '../gateway.js';
import type { Logger } from '../log.js';
import { createGatewayMetrics } from '../metrics.js';
import { loadProfiles, withTenantStartSettings } from '../profiles-file.js';
import type { SandboxAccess } from '../sessions/sandbox-access.js';
import { MemoryWebhookQueue } from '../store/memory-webhook-queue.js';
import { RedisWebhookQueue } from '../store/redis-webhook-queue.js';
import type { TenantsSource } from '../tenants/tenants-source.js';
import { DEFAULT_RETRY_POLICY } from '../webhooks/retry-policy.js';
import type { WebhookQueue } from '../store/webhook-queue.js';
import { startWebhooks, type RunningWebhooks } from '../webhooks/webhooks.js';
import { backendConfig } from './backend-config.js';
import type { SharedParts } from './shared-parts.js';

export interface IngressRoleOptions {
  config: Readonly<GatewayConfig>;
  env: Record<string, string | undefined>;
  log: Logger;
  registry: Registry;
  /** The egress gateway's URL as sandboxes reach it (BERTH_EGRESS_PUBLIC_URL, or this process's egress role). */
  egressPublicUrl: string;
  agentEnv?: Record<string, string>;
  backendOptions?: Record<string, unknown>;
  webhookResolver?: Resolver;
  /** The idle reaper's interval, ms; the gateway's default when absent. */
  reaperIntervalMs?: number;
}

export interface RunningIngressRole {
  gateway: RunningGateway;
  backend: SandboxBackend;
  webhooks: RunningWebhooks;
}

export async function startIngressRole(parts: SharedParts, options: IngressRoleOptions, stops: Array<() => Promise<void>>): Promise<RunningIngressRole> {
  const { config, log, registry } = options;
  // Started before the gateway so it stops after it: turns draining at shutdown still publish.
  const queue: WebhookQueue = parts.redis ? new RedisWebhookQueue({ ...parts.redis, keyPrefix: config.redisPrefix }) : new MemoryWebhookQueue();
  stops.push(() => queue.close());
  const webhooks = startWebhooks({
    queue,
    tenants: parts.tenants.current,
    settings: {
      allowPrivate: config.webhooks.allowPrivate,
      timeoutMs: config.webhooks.timeoutMs,
      retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: config.webhooks.maxAttempts, baseDelayMs: config.webhooks.retryBaseMs },
    },
    registry,
    log: log.child({ component: 'webhooks' }),
    ...(options.webhookResolver ? { resolver: options.webhookResolver } : {}),
  });
  stops.push(() => webhooks.stop());

  const access: SandboxAccess = {
    async grant(subject) {
      const minted = await parts.credentials.mint(subject);
      return sandboxEgressSettings({ publicUrl: options.egressPublicUrl, credential: minted.token });
    },
  };
  const profiles = withTenantStartSettings(await loadProfiles(config.profilesFile, config.poolSize), parts.tenants.current().tenants.values());
  const backend = await createBackend(backendConfig({
    config,
    env: options.env,
    profiles,
    registry,
    log,
    standbys: parts.store.standbys,
    keys: parts.keys,
    egressUrl: options.egressPublicUrl,
    ...(options.agentEnv ? { agentEnv: options.agentEnv } : {}),
    ...(options.backendOptions ? { backendOptions: options.backendOptions } : {}),
  }));
  await backend.start();
  stops.push(() => backend.stop());

  const authenticator = await jwtAuthenticator(config, parts.tenants, log);
  const gateway = await startGateway({
    ...(authenticator ? { authenticator } : {}),
    store: parts.store,
    events: parts.events,
    ledger: parts.ledger,
    ...(parts.gate ? { gate: parts.gate } : {}),
    backend,
    // Status changes and turn ends become webhook deliveries (queued in the store).
    sessionEvents: webhooks.sink,
    tenants: parts.tenants.current,
    access,
    log,
    metrics: createGatewayMetrics(registry),
    host: config.host,
    port: config.port,
    idleTimeoutS: config.idleTimeoutS,
    ...(options.reaperIntervalMs !== undefined ? { reaperIntervalMs: options.reaperIntervalMs } : {}),
    maxBodyBytes: config.maxBodyBytes,
    drainGraceS: config.drainGraceS,
    limits: { maxStreamsPerTenant: config.maxStreamsPerTenant, maxConnections: config.maxConnections },
  });
  stops.push(() => gateway.close());
  return { gateway, backend, webhooks };
}

/** Static tokens plus JWTs when a JWT key source is configured; undefined = static tokens only. */
async function jwtAuthenticator(config: Readonly<GatewayConfig>, tenants: TenantsSource, log: Logger): Promise<Authenticator | undefined> {
  const jwt = config.jwt;
  if (!jwt) return undefined;
  const keySource = jwt.jwksUrl
    ? { kind: 'jwks' as const, url: jwt.jwksUrl, timeoutMs: jwt.jwksTimeoutMs }
    : { kind: 'local' as const, text: await readFile(jwt.publicKeyFile!, 'utf8') };
  const authLog = log.child({ component: 'jwt-auth' });
  const verifier = new JWTAuthenticator({
    keySource,
    issuer: jwt.issuer,
    audience: jwt.audience,
    algorithms: jwt.algorithms,
    tenantClaim: jwt.tenantClaim,
    clockToleranceS: jwt.clockToleranceS,
    tenants: tenants.current,
    // Only the error's code and message: never the token.
    onKeySourceError: (error) => authLog.warn({ code: (error as { code?: string }).code, message: (error as Error).message }, 'JWT key source failed; caller refused'),
  });
  return new CompositeAuthenticator(new StaticTokenAuthenticator(tenants.current), verifier);
}
