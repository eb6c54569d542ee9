// startWebhooks: wires the webhook parts for one gateway replica — metrics, the sink the turn
// runner publishes to, and the dispatcher loop — over a WebhookQueue the caller chose (in-process
// or Redis). stack.ts calls it; stop() stops the loop (the caller closes the queue after).

import type { Registry } from 'prom-client';
import { systemResolver } from '../policy/resolver.js';
import type { Resolver } from '../policy/resolver.js';
import type { Logger } from '../log.js';
import { findTenant, type TenantDirectory } from '../tenants/tenant.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { createWebhookMetrics } from './webhook-metrics.js';
import type { WebhookQueue } from '../store/webhook-queue.js';
import { sendWebhook } from './webhook-sender.js';
import { WebhookSink } from './webhook-sink.js';
import type { RetryPolicy } from './retry-policy.js';

export interface WebhookSettings {
  /** Deliver to loopback, private, link-local and metadata addresses too. Tests and development only. */
  allowPrivate: boolean;
  /** Bound on one attempt (resolution, connect, answer), in ms. */
  timeoutMs: number;
  retry: RetryPolicy;
}

export interface WebhooksOptions {
  queue: WebhookQueue;
  tenants: () => TenantDirectory;
  settings: WebhookSettings;
  registry: Registry;
  log: Logger;
  /** Name → addresses for endpoint hosts. Default: the system resolver. */
  resolver?: Resolver;
  now?: () => number;
  pollIntervalMs?: number;
}

export interface RunningWebhooks {
  sink: WebhookSink;
  dispatcher: WebhookDispatcher;
  stop(): Promise<void>;
}

/**
 * Margin of the lease over the send timeout, in ms: covers the ack after a slow attempt and
 * scheduling delays on a busy replica, so a healthy replica's attempt is never taken over.
 */
const LEASE_MARGIN_MS = 15_000;

/** Per directory object: a reload makes a new one, so the answer follows the file. */
const hasEndpoints = new WeakMap<TenantDirectory, boolean>();

function anyEndpoints(directory: TenantDirectory): boolean {
  let any = hasEndpoints.get(directory);
  if (any === undefined) {
    any = [...directory.tenants.values()].some((tenant) => (tenant.webhooks?.length ?? 0) > 0);
    hasEndpoints.set(directory, any);
  }
  return any;
}

export function startWebhooks(options: WebhooksOptions): RunningWebhooks {
  const { queue, settings, log } = options;
  const metrics = createWebhookMetrics(options.registry);
  metrics.sampleQueuedWith(() => queue.size());
  const resolver = options.resolver ?? systemResolver;
  const dispatcher = new WebhookDispatcher({
    queue,
    endpoint: (tenant, url) => findTenant(options.tenants(), tenant)?.webhooks?.find((e) => e.url === url),
    send: (message, signal) => sendWebhook(message, { resolver, allowPrivate: settings.allowPrivate, timeoutMs: settings.timeoutMs }, signal),
    retry: settings.retry,
    leaseMs: settings.timeoutMs + LEASE_MARGIN_MS,
    metrics,
    log,
    ...(options.now ? { now: options.now } : {}),
    ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
    active: () => anyEndpoints(options.tenants()),
  });
  const sink = new WebhookSink({
    queue,
    tenants: options.tenants,
    metrics,
    log,
    onQueued: () => dispatcher.wake(),
    ...(options.now ? { now: options.now } : {}),
  });
  dispatcher.start();
  if (settings.allowPrivate) log.warn({}, 'BERTH_WEBHOOK_ALLOW_PRIVATE=1: webhooks may reach loopback, private and metadata addresses (tests and development only)');
  return {
    sink,
    dispatcher,
    async stop() {
      await sink.drain();
      await dispatcher.stop();
    },
  };
}
