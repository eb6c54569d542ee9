// loadConfig(env): the gateway's whole configuration, read once from a plain env object in each
// main. Defaults, parse, validate, freeze. Every bad variable is reported at once, naming it and
// the accepted range; a present-but-invalid value never falls back to its default.
// Reachability (Redis, Kubernetes) is not checked here: it fails /readyz, not boot.

import type { BackendKind } from '@berth/orchestrator';
import { ASYMMETRIC_ALGORITHMS } from './auth/jwt-authenticator.js';

export interface GatewayConfig {
  /** Ingress listen address. Default 127.0.0.1: a developer's stack is not exposed by accident. */
  host: string;
  /** Ingress port. Default 8080. 0 picks a free port (tests). */
  port: number;
  /** Egress gateway listen address and port. Default 127.0.0.1:8081. */
  egressHost: string;
  egressPort: number;
  /** How sandboxes reach the egress gateway. Default http://<egressHost>:<egressPort>. */
  egressPublicUrl: string | undefined;
  /** YAML tenants file. Default .berth/tenants.yaml (written by `berth start` with demo tenants). */
  tenantsFile: string;
  /** YAML sandbox profiles; unset = one 'default' profile of poolSize standbys. */
  profilesFile: string | undefined;
  /** Standbys of the default profile. Default 2: the first two sessions skip a cold start. */
  poolSize: number;
  /** Redis URL; unset = the in-process memory store (one replica only). */
  redisUrl: string | undefined;
  /** Key prefix in Redis, so several berths can share one Redis. Default 'berth:'. */
  redisPrefix: string;
  /**
   * BERTH_REDIS_SENTINELS "host:port,host:port": Redis Sentinels to ask for the current master
   * (instead of BERTH_REDIS_URL); failovers are followed without a restart. Unset = no Sentinel.
   */
  redisSentinels: HostPort[] | undefined;
  /** BERTH_REDIS_SENTINEL_NAME: the master group the sentinels monitor. Default 'mymaster'. */
  redisSentinelName: string;
  /**
   * BERTH_REDIS_CLUSTER_NODES "host:port,…": Redis Cluster seed nodes (any reachable subset; the
   * slot map is learned from them). Unset = not a cluster. Only one of URL, sentinels, cluster.
   */
  redisClusterNodes: HostPort[] | undefined;
  /** BERTH_REDIS_PASSWORD: AUTH for a Sentinel-found master or the cluster nodes (a URL carries its own). */
  redisPassword: string | undefined;
  /** BERTH_REDIS_SENTINEL_PASSWORD: AUTH for the sentinels themselves, when they require it. */
  redisSentinelPassword: string | undefined;
  /** BERTH_REDIS_TLS=true: TLS to the Sentinel-found master or cluster nodes (a URL says rediss:). Default false. */
  redisTls: boolean;
  backend: BackendKind;
  kubeNamespace: string;
  kubeconfig: string | undefined;
  agentImage: string;
  modalApp: string;
  /**
   * BERTH_EGRESS_METRICS_PORT: a listener of its own serving the egress gateway's GET /metrics,
   * on egressHost. Unset = none (with both roles in one process the ingress /metrics shows the
   * same registry). Its own port, not a path on the proxy port, because sandboxes reach the
   * proxy port and should not read fleet-wide metrics. 0 picks a free port (tests).
   */
  egressMetricsPort: number | undefined;
  /** Upstream model API for the egress reverse proxy. Default https://api.anthropic.com. */
  modelUpstreamUrl: string;
  /** Session-credential signing keys "kid:base64secret,…"; unset = a random key per process. */
  credentialKeys: string | undefined;
  /**
   * Session-credential lifetime in seconds. Default 43 200 (12 h). Release revokes a credential at
   * once (the egress gateway checks the session's binding), so expiry is the backstop for a
   * credential copied out of a live sandbox; a session that keeps one sandbox longer than this
   * gets 401 on model calls until its sandbox is replaced.
   */
  credentialTtlS: number;
  /** A session with no activity this long loses its sandbox (its transcript stays). Default 900 s. */
  idleTimeoutS: number;
  /** How long running streams may finish after SIGTERM. Default 30 s. */
  drainGraceS: number;
  /** Largest request body. Default 256 KiB: prompts are text; bigger is a mistake or an attack. */
  maxBodyBytes: number;
  /**
   * Open streams (turns, resumes, event tails) per tenant per gateway process. Default 256 (the
   * ingress's own default, connection-limits.ts): far above a tenant's turns plus a few tails each;
   * a dashboard tailing many sessions for one tenant raises it. Past it: 429 quota_exceeded.
   */
  maxStreamsPerTenant: number;
  /** BERTH_MAX_CONNECTIONS: open connections per gateway process (streams and idle tails included). Default 10 000; past it Node closes new ones at once. Raise it with the file-descriptor limit for many idle tails. */
  maxConnections: number;
  /**
   * Most bytes of transcript stored per session. Default 32 MiB (store/store.ts StoreLimits says
   * why); beyond it a turn's transcript is refused and the session takes no new history.
   */
  maxTranscriptBytes: number;
  /**
   * Lifetime of a session record that never got a sandbox, in seconds. Default 900: above the
   * longest first claim (120 s), so only records whose first turn never ran expire.
   */
  unboundSessionTtlS: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Callers with JWTs (beside static tokens); undefined when no key source is set. */
  jwt: JwtConfig | undefined;
  webhooks: WebhookConfig;
}

export interface WebhookConfig {
  /**
   * BERTH_WEBHOOK_ALLOW_PRIVATE=1: webhooks may reach loopback, private, link-local and metadata
   * addresses. Default 0, a security control: tenants write their webhook URLs, and without it a
   * tenant could make the gateway POST into its own network. For tests and development only.
   */
  allowPrivate: boolean;
  /** BERTH_WEBHOOK_TIMEOUT_MS: bound on one attempt (resolve, connect, answer). Default 10 000:
   *  generous for a receiver that queues and answers 2xx, short enough to free the slot. */
  timeoutMs: number;
  /** BERTH_WEBHOOK_MAX_ATTEMPTS: attempts before a delivery is dropped. Default 22 (≈ 23 h with
   *  the default base delay; the delay doubles per attempt up to 2 h). */
  maxAttempts: number;
  /** BERTH_WEBHOOK_RETRY_BASE_MS: the delay after the first failed attempt. Default 5 000.
   *  Tests lower it so retries come at once. */
  retryBaseMs: number;
}

export interface JwtConfig {
  /** BERTH_JWT_JWKS_URL: the issuer's JWKS, cached and refetched on an unknown kid. */
  jwksUrl: string | undefined;
  /** BERTH_JWT_PUBLIC_KEY_FILE: a PEM public key, a JWK or a JWK set (instead of a JWKS URL). */
  publicKeyFile: string | undefined;
  /** BERTH_JWT_ISSUER, BERTH_JWT_AUDIENCE: required `iss` and `aud`. */
  issuer: string;
  audience: string;
  /** BERTH_JWT_ALGORITHMS: comma list of asymmetric algorithms. Default RS256,ES256. */
  algorithms: string[];
  /** BERTH_JWT_TENANT_CLAIM: the claim naming the tenant. Default 'berth_tenant'. */
  tenantClaim: string;
  /** BERTH_JWT_JWKS_TIMEOUT_MS: a JWKS fetch slower than this refuses the caller. Default 2000. */
  jwksTimeoutMs: number;
  /** BERTH_JWT_CLOCK_TOLERANCE_S: leeway on exp/nbf for clock skew. Default 30 s. */
  clockToleranceS: number;
}

export interface HostPort {
  host: string;
  port: number;
}

/** Asymmetric only: 'none' and HS* (an HMAC keyed with a public key) are never accepted. */
const JWT_ALGORITHMS: readonly string[] = ASYMMETRIC_ALGORITHMS;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  string(name: string, fallback: string): string {
    const value = this.env[name];
    if (value === undefined) return fallback;
    if (value.trim() === '') this.problems.push(`${name} is empty; unset it or give a value`);
    return value;
  }

  optional(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || value < min || value > max) {
      this.problems.push(`${name}=${JSON.stringify(raw)} must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.env[name];
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name}=${JSON.stringify(raw)} must be one of ${allowed.join(', ')}`);
      return fallback;
    }
    return raw as T;
  }

  /** "host:port,host:port" ([v6]:port for IPv6); undefined when unset or empty. */
  hostPorts(name: string): HostPort[] | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return undefined;
    const out: HostPort[] = [];
    for (const item of raw.split(',').map((i) => i.trim()).filter((i) => i !== '')) {
      const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(item);
      const port = Number(match?.[2]);
      if (!match || port < 1 || port > 65535) {
        this.problems.push(`${name}: ${JSON.stringify(item)} must be host:port (port 1 to 65535), as a comma list`);
        continue;
      }
      out.push({ host: match[1]!.replace(/^\[|\]$/g, ''), port });
    }
    if (out.length === 0 && !this.problems.some((p) => p.startsWith(`${name}:`))) this.problems.push(`${name} names no host:port`);
    return out;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.env[name];
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    this.problems.push(`${name}=${JSON.stringify(raw)} must be true or false`);
    return fallback;
  }

  url(name: string, fallback: string | undefined, protocols: string[]): string | undefined {
    const raw = this.optional(name) ?? fallback;
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) throw new Error('protocol');
    } catch {
      this.problems.push(`${name} must be a ${protocols.join(' or ')} URL`);
    }
    return raw;
  }
}

export function loadConfig(env: Env): Readonly<GatewayConfig> {
  const r = new Reader(env);
  const egressHost = r.string('BERTH_EGRESS_HOST', '127.0.0.1');
  const config: GatewayConfig = {
    host: r.string('BERTH_HOST', '127.0.0.1'),
    port: r.int('BERTH_PORT', 8080, 0, 65535),
    egressHost,
    egressPort: r.int('BERTH_EGRESS_PORT', 8081, 0, 65535),
    egressPublicUrl: r.url('BERTH_EGRESS_PUBLIC_URL', undefined, ['http:', 'https:']),
    tenantsFile: r.string('BERTH_TENANTS_FILE', '.berth/tenants.yaml'),
    profilesFile: r.optional('BERTH_PROFILES_FILE'),
    poolSize: r.int('BERTH_POOL_SIZE', 2, 0, 1000),
    redisUrl: r.url('BERTH_REDIS_URL', undefined, ['redis:', 'rediss:']),
    redisPrefix: r.string('BERTH_REDIS_PREFIX', 'berth:'),
    redisSentinels: r.hostPorts('BERTH_REDIS_SENTINELS'),
    redisSentinelName: r.string('BERTH_REDIS_SENTINEL_NAME', 'mymaster'),
    redisClusterNodes: r.hostPorts('BERTH_REDIS_CLUSTER_NODES'),
    redisPassword: r.optional('BERTH_REDIS_PASSWORD'),
    redisSentinelPassword: r.optional('BERTH_REDIS_SENTINEL_PASSWORD'),
    redisTls: r.bool('BERTH_REDIS_TLS', false),
    backend: r.oneOf('BERTH_BACKEND', 'local', ['local', 'kubernetes', 'modal'] as const),
    kubeNamespace: r.string('BERTH_KUBE_NAMESPACE', 'berth-sandboxes'),
    kubeconfig: r.optional('BERTH_KUBECONFIG'),
    agentImage: r.string('BERTH_AGENT_IMAGE', 'ghcr.io/berth-dev/berth-agent:0.1.0'),
    modalApp: r.string('BERTH_MODAL_APP', 'berth'),
    egressMetricsPort: env.BERTH_EGRESS_METRICS_PORT === undefined ? undefined : r.int('BERTH_EGRESS_METRICS_PORT', 0, 0, 65535),
    modelUpstreamUrl: r.url('BERTH_MODEL_UPSTREAM_URL', 'https://api.anthropic.com', ['http:', 'https:'])!,
    credentialKeys: r.optional('BERTH_CREDENTIAL_KEYS'),
    credentialTtlS: r.int('BERTH_CREDENTIAL_TTL_S', 43_200, 60, 7 * 24 * 3600),
    idleTimeoutS: r.int('BERTH_IDLE_TIMEOUT_S', 900, 10, 7 * 24 * 3600),
    drainGraceS: r.int('BERTH_DRAIN_GRACE_S', 30, 0, 3600),
    maxBodyBytes: r.int('BERTH_MAX_BODY_BYTES', 256 * 1024, 1024, 16 * 1024 * 1024),
    maxStreamsPerTenant: r.int('BERTH_MAX_STREAMS_PER_TENANT', 256, 1, 1_000_000),
    maxConnections: r.int('BERTH_MAX_CONNECTIONS', 10_000, 16, 1_000_000),
    maxTranscriptBytes: r.int('BERTH_MAX_TRANSCRIPT_BYTES', 32 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    unboundSessionTtlS: r.int('BERTH_UNBOUND_SESSION_TTL_S', 900, 300, 7 * 24 * 3600),
    logLevel: r.oneOf('BERTH_LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    jwt: undefined,
    webhooks: {
      allowPrivate: r.bool('BERTH_WEBHOOK_ALLOW_PRIVATE', false),
      timeoutMs: r.int('BERTH_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
      maxAttempts: r.int('BERTH_WEBHOOK_MAX_ATTEMPTS', 22, 1, 100),
      retryBaseMs: r.int('BERTH_WEBHOOK_RETRY_BASE_MS', 5_000, 1, 3_600_000),
    },
  };
  config.jwt = readJwt(r, env);
  const redisSources = [
    config.redisUrl && 'BERTH_REDIS_URL',
    config.redisSentinels && 'BERTH_REDIS_SENTINELS',
    config.redisClusterNodes && 'BERTH_REDIS_CLUSTER_NODES',
  ].filter(Boolean);
  if (redisSources.length > 1) r.problems.push(`set only one of ${redisSources.join(', ')}: they are three ways to name one Redis`);
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return Object.freeze(config);
}

function readJwt(r: Reader, env: Env): JwtConfig | undefined {
  const jwksUrl = r.url('BERTH_JWT_JWKS_URL', undefined, ['http:', 'https:']);
  const publicKeyFile = r.optional('BERTH_JWT_PUBLIC_KEY_FILE');
  const issuer = r.optional('BERTH_JWT_ISSUER');
  const audience = r.optional('BERTH_JWT_AUDIENCE');
  const algorithms = (r.optional('BERTH_JWT_ALGORITHMS') ?? 'RS256,ES256').split(',').map((a) => a.trim()).filter((a) => a !== '');
  const badAlgorithms = algorithms.filter((a) => !JWT_ALGORITHMS.includes(a));
  if (badAlgorithms.length > 0 || algorithms.length === 0) {
    r.problems.push(`BERTH_JWT_ALGORITHMS=${JSON.stringify(env.BERTH_JWT_ALGORITHMS)} must be a comma list of ${JWT_ALGORITHMS.join(', ')}`);
  }
  const tenantClaim = r.string('BERTH_JWT_TENANT_CLAIM', 'berth_tenant');
  const jwksTimeoutMs = r.int('BERTH_JWT_JWKS_TIMEOUT_MS', 2000, 50, 60_000);
  const clockToleranceS = r.int('BERTH_JWT_CLOCK_TOLERANCE_S', 30, 0, 3600);
  if (!jwksUrl && !publicKeyFile) {
    if (issuer || audience) r.problems.push('BERTH_JWT_ISSUER/BERTH_JWT_AUDIENCE are set but no key source: set BERTH_JWT_JWKS_URL or BERTH_JWT_PUBLIC_KEY_FILE');
    return undefined;
  }
  if (jwksUrl && publicKeyFile) r.problems.push('set only one of BERTH_JWT_JWKS_URL and BERTH_JWT_PUBLIC_KEY_FILE');
  if (!issuer) r.problems.push('BERTH_JWT_ISSUER is required when a JWT key source is set (the expected `iss`)');
  if (!audience) r.problems.push('BERTH_JWT_AUDIENCE is required when a JWT key source is set (the expected `aud`)');
  return { jwksUrl, publicKeyFile, issuer: issuer ?? '', audience: audience ?? '', algorithms, tenantClaim, jwksTimeoutMs, clockToleranceS };
}
