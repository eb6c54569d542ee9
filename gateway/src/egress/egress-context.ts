// What every egress handler gets from egress-server.ts: the authenticator, the resolver, metrics,
// logger and the limits. One object so handlers stay plain functions that tests can reason about.
// No logic here besides the limit defaults and their reasons.

import type { EgressMetrics } from './egress-metrics.js';
import type { EgressLogger, Resolver } from './egress-types.js';
import type { ProxyAuthenticator } from './proxy-auth.js';

export interface EgressLimits {
  /** Largest request head (request line + headers), bytes. Default 16 KiB: a JWT credential
   *  plus the CLI's headers is ~3 KiB; bigger is abuse. Node answers 431 beyond it. */
  maxHeaderBytes: number;
  /** Time to receive a request head, ms. Default 10 000: slow-loris bound. */
  headersTimeoutMs: number;
  /** Idle time on a CONNECT tunnel or forward-proxied request, ms. Default 300 000: long enough
   *  for a slow package download's pauses, short enough that forgotten tunnels close. */
  tunnelIdleTimeoutMs: number;
  /** TCP connect to a vetted address, ms. Default 10 000. */
  connectTimeoutMs: number;
  /** Idle time on a model API call, ms. Default 600 000: the CLI's own request timeout is
   *  600 s (x-stainless-timeout), and a non-streamed reply may say nothing until it is done. */
  modelIdleTimeoutMs: number;
  /** Largest model request body, bytes. Default 32 MiB: the Messages API's own request limit. */
  maxModelBodyBytes: number;
  /** One DNS resolution, ms. Default 5000. */
  resolveTimeoutMs: number;
  /**
   * Open CONNECT tunnels per tenant, per egress process. Default 256: a busy sandbox (package
   * installs, git) opens a few dozen at once; without a cap one tenant holds every descriptor.
   * Past it the CONNECT is answered 429 quota_exceeded and counted (reason tunnel_cap).
   */
  maxTunnelsPerTenant: number;
}

export const DEFAULT_EGRESS_LIMITS: Readonly<EgressLimits> = Object.freeze({
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  tunnelIdleTimeoutMs: 300_000,
  connectTimeoutMs: 10_000,
  modelIdleTimeoutMs: 600_000,
  maxModelBodyBytes: 32 * 1024 * 1024,
  resolveTimeoutMs: 5000,
  maxTunnelsPerTenant: 256,
});

export interface EgressContext {
  authenticate: ProxyAuthenticator;
  resolver: Resolver;
  metrics: EgressMetrics;
  logger: EgressLogger;
  limits: EgressLimits;
  now: () => number;
  /** Open tunnels per tenant (connect-tunnel.ts keeps it). */
  tunnels: Map<string, number>;
}
