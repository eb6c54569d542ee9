// Assembles the ingress express app: request metrics, probes (unauthenticated), authenticated
// routes, a problem+json 404/405 for everything else, and the one error middleware.

import express, { type Express, type RequestHandler } from 'express';
import { errorMiddleware } from '../errors.js';
import type { IngressContext } from './context.js';
import { authenticate } from './auth-middleware.js';
import { poolRoutes, probeRoutes } from './routes-ops.js';
import { adminRoutes, requireAdmin } from './routes-admin.js';
import { sessionControlRoutes } from './routes-session-control.js';
import { sessionRoutes } from './routes-sessions.js';
import { DEFAULT_INGRESS_LIMITS, methodNotAllowed, streamCap, type IngressLimits } from './connection-limits.js';

export function createIngressApp(ctx: IngressContext, limits: Pick<IngressLimits, 'maxStreamsPerTenant'> = DEFAULT_INGRESS_LIMITS): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestMetrics(ctx));
  app.use(probeRoutes(ctx));
  app.use(poolRoutes(ctx));
  // Admin routes answer only admin tokens; routes carry their full path so metric labels stay distinct.
  app.use('/admin', authenticate(ctx.authenticator), requireAdmin);
  app.use(adminRoutes(ctx));
  app.use('/sessions', authenticate(ctx.authenticator), streamCap(limits, () => ctx.metrics.quotaRefusals.inc({ kind: 'streams' })));
  app.use(sessionRoutes(ctx));
  app.use(sessionControlRoutes(ctx));
  app.use(methodNotAllowed(app));
  app.use(errorMiddleware(ctx.log));
  return app;
}

/** Duration to the response head by route pattern (never the raw path: ids would explode labels). */
function requestMetrics(ctx: IngressContext): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const observe = (): void => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      ctx.metrics.requestDuration.observe({ route, method: req.method, status: String(res.statusCode) }, seconds);
    };
    res.once('finish', observe);
    next();
  };
}
