// startStack: builds berth's running parts from a GatewayConfig — route store, tenants, session
// credentials, egress gateway, sandbox backend, ingress — and stops them in reverse order.
// `berth start` runs both roles in one process; a cluster runs `berth gateway --ingress-only`
// and `--egress-only` as separate Deployments sharing Redis and the credential keys.

import { readFile } from 'node:fs/promises';
import { Registry } from 'prom-client';
import { createBackend, type BackendConfig } from '@berth/orchestrator';
import { createBackendMetrics } from '@berth/orchestrator';
import type { SandboxBackend, SandboxProfile } from '@berth/orchestrator';
import type { Authenticator } from './auth/authenticator.js';
import { CompositeAuthenticator } from './auth/composite-authenticator.js';
import { JWTAuthenticator } from './auth/jwt-authenticator.js';
import { StaticTokenAuthenticator } from './auth/static-token-authenticator.js';
import type { GatewayConfig } from './config.js';
import { credentialKeysFromEnv, createSessionCredentials, type CredentialKeys } from './credentials/index.js';
import { modalOptionsFromEnv } from '@berth/orchestrator/modal';
import { compileAllowlist, createEgressServer, type Resolver, type TenantEgressPolicy } from './egress/index.js';
import { sourceMatchesBinding } from './egress/proxy-auth.js';
import { parseIsolationSetting } from '@berth/orchestrator/local';
import { sandboxEgressSettings } from './egress/sandbox-env.js';
import { startGateway, type RunningGateway } from './gateway.js';
import type { Logger } from './log.js';
import { collectProcessMetrics, createGatewayMetrics, serveMetrics } from './metrics.js';
import { loadProfiles } from './profiles-file.js';
import { redisConnectionFromConfig } from './redis-from-config.js';
import type { SandboxAccess } from './sessions/sandbox-access.js';
import { createMemoryStore } from './store/memory/memory-store.js';
import { createRedisStore } from './store/redis/redis-store.js';
import type { Store } from './store/store.js';
import type { EventLog } from './store/event-log.js';
import { MemoryEventLog } from './store/memory-event-log.js';
import { MemoryTurnLedger } from './store/memory-turn-ledger.js';
import { RedisEventLog } from './store/redis-event-log.js';
import { RedisTurnLedger } from './store/redis-turn-ledger.js';
import type { TurnLedger } from './store/turn-ledger.js';
import { TenantsSource } from './tenants/tenants-source.js';
import type { Tenant } from './tenants/tenant.js';
import { MemoryWebhookQueue } from './store/memory-webhook-queue.js';
import { RedisWebhookQueue } from './store/redis-webhook-queue.js';
import { DEFAULT_RETRY_POLICY } from './webhooks/retry-policy.js';
import { startWebhooks, type RunningWebhooks } from './webhooks/webhooks.js';
import type { WebhookQueue } from './webhooks/webhook-queue.js';

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
  const registry = new Registry();
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const fn of stops.reverse()) await fn().catch((error: unknown) => log.warn({ err: error }, 'shutdown step failed'));
  };
  try {
    const tenants = await TenantsSource.open(config.tenantsFile, log);
    tenants.watch();
    stops.push(async () => tenants.close());
    const redis = redisConnectionFromConfig(config);
    // Built once, with one technology; each consumer below takes only the ports it uses.
    const limits = { maxTranscriptBytes: config.maxTranscriptBytes, unboundTtlS: config.unboundSessionTtlS };
    const store: Store = redis ? createRedisStore({ ...redis, keyPrefix: config.redisPrefix, limits }) : createMemoryStore({ limits });
    stops.push(() => store.close());
    // The event log and turn ledger share the route store's Redis (their own connections: the
    // event log's subscriber blocks on notifications).
    const events: EventLog = redis ? new RedisEventLog({ ...redis, keyPrefix: config.redisPrefix }) : new MemoryEventLog();
    const ledger: TurnLedger = redis ? new RedisTurnLedger({ ...redis, keyPrefix: config.redisPrefix }) : new MemoryTurnLedger();
    stops.push(() => events.close(), () => ledger.close());
    if (!(roles.ingress && roles.egress) && !config.credentialKeys) {
      throw new Error('BERTH_CREDENTIAL_KEYS is required when ingress and egress run as separate processes (both must share the signing keys)');
    }
    const keys = credentialKeysFromEnv(config.credentialKeys);
    const credentials = createSessionCredentials({ keys, ttlS: config.credentialTtlS });

    let egressUrl: string | undefined;
    let egressMetricsUrl: string | undefined;
    // Set once an isolated local backend is up: its sandboxes each dial the egress gateway from
    // their own loopback address, so a credential is honoured only from its own sandbox.
    let sourceBound = false;
    if (roles.egress) {
      const egress = createEgressServer({
        credentials,
        store,
        tenants: (name) => egressPolicy(tenants.current().tenants.get(name)),
        upstreamUrl: options.modelUpstreamUrl ?? config.modelUpstreamUrl,
        realKeyFor: (name) => realKeyFor(tenants.current().tenants.get(name), env),
        registry,
        logger: log.child({ component: 'egress' }),
        ...(config.egressPublicUrl ? { publicUrl: config.egressPublicUrl } : {}),
        ...(options.egressResolver ? { resolver: options.egressResolver } : {}),
        checkSource: (binding, remoteAddress) => !sourceBound || sourceMatchesBinding(binding, remoteAddress),
      });
      const address = await egress.listen(config.egressPort, config.egressHost);
      egressUrl = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      stops.push(() => egress.close());
      collectProcessMetrics(registry);
      if (config.egressMetricsPort !== undefined) {
        const metricsServer = await serveMetrics(registry, config.egressMetricsPort, config.egressHost);
        egressMetricsUrl = metricsServer.url;
        stops.push(() => metricsServer.close());
      }
    }

    let gateway: RunningGateway | undefined;
    let backend: SandboxBackend | undefined;
    let webhooks: RunningWebhooks | undefined;
    if (roles.ingress) {
      // Started before the gateway so it stops after it: turns draining at shutdown still publish.
      const queue: WebhookQueue = redis ? new RedisWebhookQueue({ ...redis, keyPrefix: config.redisPrefix }) : new MemoryWebhookQueue();
      stops.push(() => queue.close());
      webhooks = startWebhooks({
        queue,
        tenants: tenants.current,
        settings: {
          allowPrivate: config.webhooks.allowPrivate,
          timeoutMs: config.webhooks.timeoutMs,
          retry: { ...DEFAULT_RETRY_POLICY, maxAttempts: config.webhooks.maxAttempts, baseDelayMs: config.webhooks.retryBaseMs },
        },
        registry,
        log: log.child({ component: 'webhooks' }),
        ...(options.webhookResolver ? { resolver: options.webhookResolver } : {}),
      });
      const startedWebhooks = webhooks;
      stops.push(() => startedWebhooks.stop());
      const publicUrl = config.egressPublicUrl ?? egressUrl;
      if (!publicUrl) throw new Error('BERTH_EGRESS_PUBLIC_URL is required when the egress role runs elsewhere');
      const access: SandboxAccess = {
        async grant(subject) {
          const minted = await credentials.mint(subject);
          return sandboxEgressSettings({ publicUrl, credential: minted.token });
        },
      };
      const profiles = await loadProfiles(config.profilesFile, config.poolSize);
      backend = await createBackend(backendConfig(config, profiles, registry, log, options, store.standbys, keys, publicUrl));
      await backend.start();
      sourceBound = roles.egress && (backend as { isolated?: boolean }).isolated === true;
      const started = backend;
      stops.push(() => started.stop());
      const authenticator = await jwtAuthenticator(config, tenants, log);
      gateway = await startGateway({
        ...(authenticator ? { authenticator } : {}),
        store,
        events,
        ledger,
        backend,
        // Status changes and turn ends become webhook deliveries (queued in the store).
        ...(webhooks ? { sessionEvents: webhooks.sink } : {}),
        tenants: tenants.current,
        access,
        log,
        metrics: createGatewayMetrics(registry),
        host: config.host,
        port: config.port,
        idleTimeoutS: config.idleTimeoutS,
        maxBodyBytes: config.maxBodyBytes,
        drainGraceS: config.drainGraceS,
        limits: { maxStreamsPerTenant: config.maxStreamsPerTenant },
      });
      const running = gateway;
      stops.push(() => running.close());
    }
    return { ingressUrl: gateway?.url, egressUrl, egressMetricsUrl, store, backend, tenants, gateway, webhooks, registry, stop };
  } catch (error) {
    await stop();
    throw error;
  }
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

function backendConfig(
  config: Readonly<GatewayConfig>,
  profiles: SandboxProfile[],
  registry: Registry,
  log: Logger,
  options: StackOptions,
  standbys: Store['standbys'],
  keys: CredentialKeys,
  egressUrl: string,
): BackendConfig {
  const metrics = createBackendMetrics(registry, config.backend);
  const logger = log.child({ component: 'backend' });
  const agentEnv = options.agentEnv ? { agentEnv: options.agentEnv } : {};
  switch (config.backend) {
    case 'local':
      return {
        kind: 'local',
        options: { profiles, logger, metrics, isolation: parseIsolationSetting(options.env.BERTH_LOCAL_ISOLATION), egressUrl, ...agentEnv, ...options.backendOptions },
      };
    case 'kubernetes':
      return {
        kind: 'kubernetes',
        options: {
          profiles,
          metrics,
          registry,
          namespace: config.kubeNamespace,
          ...(config.kubeconfig ? { kubeconfigPath: config.kubeconfig } : {}),
          agentImage: config.agentImage,
          // Agent tokens are derived from the shared keys, so every replica can reach every pod.
          tokenKeys: keys,
          onWarn: (message: string) => logger.warn({}, message),
          ...agentEnv,
          ...options.backendOptions,
        },
      };
    case 'modal': {
      const modal = modalOptionsFromEnv(options.env);
      if (modal.problems.length > 0) throw new Error(`invalid Modal configuration:\n  ${modal.problems.join('\n  ')}`);
      return {
        kind: 'modal',
        options: {
          profiles,
          logger,
          metrics,
          // Pool membership lives in the store: a claim is an atomic pop there (Redis across replicas).
          standbys,
          appName: config.modalApp,
          agentImage: config.agentImage,
          ...modal.options,
          // With an in-process store nobody else can claim our standbys after we stop: terminate them.
          onStop: redisConnectionFromConfig(config) ? 'keep' : 'terminate',
          ...agentEnv,
          ...options.backendOptions,
        },
      };
    }
  }
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
