// Operational routes: probes, metrics, pool status and the tenant's own usage (its body:
// usage-report.ts). /healthz says the process runs; /readyz says it can serve (store reachable,
// not draining), so a load balancer stops sending traffic before a replica stops. GET /health and
// the snake_case fields of /api/pool answer what a client or probe written for the cookbook's
// hosting gateway expects, to the letter, beside berth's own shape. GET /openapi.json serves the
// API description (openapi/document.ts), unauthenticated like the probes: it holds nothing a
// caller may not know.

import { Router } from 'express';
import { BerthError } from '@berth/protocol';
import type { IngressContext } from './context.js';
import { authenticate, tenantOf } from './auth-middleware.js';
import { openApiJson } from './openapi/document.js';
import { tenantUsageReport, usagePageQuery } from './usage-report.js';

export function probeRoutes(ctx: IngressContext): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/health', (_req, res) => {
    res.json({ status: 'healthy' });
  });
  router.get('/readyz', async (_req, res) => {
    if (ctx.draining()) throw new BerthError('draining', 'the gateway is shutting down');
    await ctx.store.ping();
    if (ctx.backend.healthy && !ctx.backend.healthy()) {
      throw new BerthError('backend_unavailable', `the ${ctx.backend.kind} API is not answering; sandboxes cannot be claimed`, { retryAfterS: 5 });
    }
    res.json({ status: 'ready' });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openApiJson);
  });
  return router;
}

export function poolRoutes(ctx: IngressContext): Router {
  const router = Router();
  router.get('/api/pool', authenticate(ctx.authenticator), async (_req, res) => {
    const pools = await ctx.backend.pool();
    res.json({
      backend: ctx.backend.kind,
      pools: pools.map(({ standbyIds: _ids, ...pool }) => pool),
      // The cookbook's one pool is berth's pools summed; standby_pods lists ready standbys by id
      // where the backend knows them (local), else it is empty while ready_count still counts.
      target_size: pools.reduce((n, p) => n + p.target, 0),
      ready_count: pools.reduce((n, p) => n + p.ready, 0),
      standby_pods: pools.flatMap((p) => p.standbyIds ?? []),
    });
  });
  // The tenant's totals, one page of its sessions' counters (?limit, default 100, at most 1000,
  // and the opaque ?cursor of the previous page's nextCursor; session-id order) and its budget
  // window: the tenant's own limits and the gateway's clock, as the quotas read them.
  router.get('/api/usage', authenticate(ctx.authenticator), async (req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    res.json(await tenantUsageReport(ctx.store.usage, tenant.name, tenant.limits.tokenBudget, ctx.now(), usagePageQuery(req.query)));
  });
  return router;
}
