// Operational routes: probes, metrics, pool status and the tenant's own usage. /healthz says
// the process runs; /readyz says it can serve (store reachable, not draining), so a load
// balancer stops sending traffic before a replica stops.

import { Router } from 'express';
import { BerthError } from '@berth/protocol';
import type { IngressContext } from './context.js';
import { authenticate, tenantOf } from './auth-middleware.js';

export function probeRoutes(ctx: IngressContext): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
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
  return router;
}

export function poolRoutes(ctx: IngressContext): Router {
  const router = Router();
  router.get('/api/pool', authenticate(ctx.authenticator), async (_req, res) => {
    res.json({ backend: ctx.backend.kind, pools: await ctx.backend.pool() });
  });
  router.get('/api/usage', authenticate(ctx.authenticator), async (_req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    const usage = await ctx.store.usage.getUsage(tenant.name);
    res.json({ tenant: tenant.name, total: usage.tenant, sessions: usage.sessions });
  });
  return router;
}
