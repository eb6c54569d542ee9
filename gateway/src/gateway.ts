// startGateway: the ingress API as a running server around given parts (store, backend,
// tenants, sandbox access). stack.ts calls it (for `berth start`, `berth gateway` and the
// tests) after building those parts from config. Shutdown drains: /readyz turns 503, new turns
// are refused, running streams get the grace period, then every stream ends with one frame.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SandboxBackend } from '@berth/orchestrator';
import { StaticTokenAuthenticator } from './auth/static-token-authenticator.js';
import type { Authenticator } from './auth/authenticator.js';
import type { Logger } from './log.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
import type { IngressContext } from './ingress/context.js';
import { createIngressApp } from './ingress/app.js';
import { applyServerLimits, connectionsCheckingIntervalMs, DEFAULT_INGRESS_LIMITS, type IngressLimits } from './ingress/connection-limits.js';
import { IngressQuotas } from './quotas/ingress-quotas.js';
import { IdleReaper } from './sessions/reaper.js';
import type { SandboxAccess } from './sessions/sandbox-access.js';
import { SessionService } from './sessions/session-service.js';
import { TurnRunner, type ActiveTurn } from './sessions/turn-runner.js';
import { RelayRescuer, replicaOwnerId } from './sessions/relay-rescuer.js';
import { noSessionEvents, type SessionEventSink } from './session-events.js';
import type { EventLog } from './store/event-log.js';
import { MemoryEventLog } from './store/memory-event-log.js';
import { MemoryTurnLedger } from './store/memory-turn-ledger.js';
import type { TurnLedger } from './store/turn-ledger.js';
import { PortsSessionGate, type SessionGate } from './store/session-gate.js';
import { countRefusals } from './store/counted-transcript-log.js';
import type { Store } from './store/store.js';
import type { TenantDirectory } from './tenants/tenant.js';

export interface GatewayParts {
  store: Store;
  /** Each session's event log. Default in process memory: pass a Redis one with a Redis store. */
  events?: EventLog;
  /** Turn status and relay leases. Default in process memory: pass a Redis one with a Redis store. */
  ledger?: TurnLedger;
  /**
   * What an authenticated request on a session asks the store, in one call. Default: the same
   * steps over the store's ports and the ledger (one call in process; pass a RedisSessionGate
   * with a single Redis or Sentinel for one round trip).
   */
  gate?: SessionGate;
  /** Told of session status changes and turn ends (webhooks). Default: nobody. */
  sessionEvents?: SessionEventSink;
  /**
   * Relay lease lifetime, in ms. Default 6 000: renewed every 2 s, so two lost renewals (a store
   * blip) never hand a live relay over, while a dead replica's turns are taken over within
   * about this plus relayCheckMs. Shorter: faster take-over, more renewals; longer: slower.
   */
  relayLeaseMs?: number;
  /** How often every replica looks for expired relay leases, in ms. Default 2 000. */
  relayCheckMs?: number;
  backend: SandboxBackend;
  tenants: () => TenantDirectory;
  access: SandboxAccess;
  log: Logger;
  metrics?: GatewayMetrics;
  authenticator?: Authenticator;
  now?: () => number;
  host?: string;
  port?: number;
  idleTimeoutS?: number;
  maxBodyBytes?: number;
  reaperIntervalMs?: number;
  drainGraceS?: number;
  /** Connection bounds; see ingress/connection-limits.ts for each default and why. */
  limits?: Partial<IngressLimits>;
}

export interface RunningGateway {
  url: string;
  server: http.Server;
  context: IngressContext;
  reaper: IdleReaper;
  /** Takes over the relays of turns whose replica died (tests tick it instead of waiting). */
  rescuer: RelayRescuer;
  /**
   * Stops as a killed process would, for fault tests: from now on this replica's relays cannot
   * write to the store (nor hand their leases off), every connection is destroyed, nothing drains.
   */
  crash(): Promise<void>;
  /** Drains (grace for running streams) and closes the server. Does not stop the backend or store. */
  close(): Promise<void>;
}

/**
 * Largest request head, in bytes. Default 16 KiB (Node's default, stated so it is a decision):
 * a bearer token and a few headers fit many times; larger heads are refused with 431.
 */
export const MAX_HEADER_BYTES = 16 * 1024;

/**
 * How long close() waits, after cutting the streams left at the end of the grace, for them to
 * finish their bookkeeping (transcript flush, quota slots), in ms. Default 5 000: a flush is a
 * few store round trips; past this a stuck one is abandoned rather than delaying exit.
 */
export const CUT_SETTLE_MS = 5_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function startGateway(parts: GatewayParts): Promise<RunningGateway> {
  const now = parts.now ?? Date.now;
  const metrics = parts.metrics ?? createGatewayMetrics();
  metrics.sampleSessionsWith(() => parts.store.bindings.countBoundSessions());
  let draining = false;
  const idleTimeoutMs = (parts.idleTimeoutS ?? 900) * 1000;
  const reaperIntervalMs = parts.reaperIntervalMs ?? 15_000;
  // Fenced, so crash() can cut this replica off its stores as a dead process would be.
  let crashed = false;
  const events = fence(parts.events ?? new MemoryEventLog(), () => crashed);
  const ledger = fence(parts.ledger ?? new MemoryTurnLedger(), () => crashed);
  const gate = fence(parts.gate ?? new PortsSessionGate({ sessions: parts.store.sessions, quotas: parts.store.quotas, ledger }), () => crashed);
  const sessions = new SessionService({ store: parts.store, events, ledger, backend: parts.backend, access: parts.access, log: parts.log, now, ...(parts.sessionEvents ? { sessionEvents: parts.sessionEvents } : {}) });
  // A session lease outlives the sandbox's idle life by one reaper pass plus 5 s (see IngressQuotas).
  const quotas = new IngressQuotas({ store: parts.store, metrics, now, sessionLeaseTtlMs: idleTimeoutMs + reaperIntervalMs + 5_000 });
  const streams = new Set<ActiveTurn>();
  // Turns are the only transcript writers: a refusal at the byte cap is counted where they write.
  const transcripts = countRefusals(parts.store.transcripts, () => metrics.transcriptRefusals.inc());
  const turnDeps = {
    store: { sessions: parts.store.sessions, transcripts },
    events,
    ledger,
    log: parts.log,
    metrics,
    now,
    owner: replicaOwnerId(),
    leaseMs: parts.relayLeaseMs ?? 6_000,
    sessionEvents: parts.sessionEvents ?? noSessionEvents,
    active: streams,
  };
  const turns = new TurnRunner({ ...turnDeps, sessions, quotas, draining: () => draining });
  const rescuer = new RelayRescuer({ ...turnDeps, ...(parts.relayCheckMs ? { intervalMs: parts.relayCheckMs } : {}) });
  const context: IngressContext = {
    store: parts.store,
    events,
    ledger,
    gate,
    backend: parts.backend,
    sessions,
    turns,
    authenticator: parts.authenticator ?? new StaticTokenAuthenticator(parts.tenants),
    tenants: parts.tenants,
    log: parts.log,
    metrics,
    now,
    maxBodyBytes: parts.maxBodyBytes ?? 256 * 1024,
    quotas,
    draining: () => draining,
    streams,
  };
  const limits: IngressLimits = { ...DEFAULT_INGRESS_LIMITS, ...parts.limits };
  const app = createIngressApp(context, limits);
  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES, connectionsCheckingInterval: connectionsCheckingIntervalMs(limits) }, app);
  // The request clocks end with the request body, so long SSE answers are not cut by them.
  applyServerLimits(server, limits);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(parts.port ?? 0, parts.host ?? '127.0.0.1', () => resolve());
  });
  const reaper = new IdleReaper({
    store: parts.store,
    backend: parts.backend,
    log: parts.log,
    metrics,
    now,
    idleTimeoutMs,
    intervalMs: reaperIntervalMs,
  });
  reaper.start();
  rescuer.start();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  const drainAndClose = async (): Promise<void> => {
    draining = true;
    await reaper.stop();
    await rescuer.stop();
    const graceMs = (parts.drainGraceS ?? 30) * 1000;
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && context.streams.size > 0) await sleep(100);
    // Past the grace: every stream left ends with one terminal frame, then its turn is aborted
    // (a turn still provisioning is answered 503 draining instead).
    for (const stream of context.streams) stream.cut('the gateway is shutting down; send the message again to continue');
    // A cut stream still stores its transcript tail and gives back its quota slots; wait for
    // that (bounded), so the store the caller closes next is not closed under it.
    const settleDeadline = Date.now() + CUT_SETTLE_MS;
    while (Date.now() < settleDeadline && context.streams.size > 0) await sleep(20);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Whatever is still in flight after the settle time (a claim stuck on the backend) must not
    // hold the process: its connection is closed.
    if (context.streams.size > 0) server.closeAllConnections();
    await closed;
  };
  // Idempotent: SIGTERM and the stack's stop() may both call it.
  const close = (): Promise<void> => (closing ??= drainAndClose());
  const crash = async (): Promise<void> => {
    crashed = true;
    closing ??= (async () => {
      draining = true;
      await reaper.stop();
      await rescuer.stop();
      for (const stream of context.streams) stream.cut('the gateway crashed');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    })();
    await closing;
  };
  return { url: `http://${host}:${address.port}`, server, context, reaper, rescuer, crash, close };
}

/** `target` whose every method throws once `dead()` holds (crash(): a dead process writes nothing). */
function fence<T extends object>(target: T, dead: () => boolean): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (dead()) {
          if (property === 'watch') return () => undefined;
          return Promise.reject(new Error('this replica crashed'));
        }
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}
