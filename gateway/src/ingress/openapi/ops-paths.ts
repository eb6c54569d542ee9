// Probes, metrics, the caller's pool and usage, and this description itself (routes-ops.ts) as
// OpenAPI path items. Probes, /metrics and /openapi.json need no credential.

import { ref, type PathItem, type Responses } from './types.js';
import { problems } from './problems.js';

const ok = (description: string, schema: string): Responses => ({
  '200': { description, content: { 'application/json': { schema: ref('schemas', schema) } } },
});

const open = { security: [] as Array<Record<string, string[]>>, tags: ['operations'] };

export const opsPaths: Record<string, PathItem> = {
  '/healthz': {
    get: { operationId: 'liveness', summary: 'Liveness: the process runs', ...open, responses: { ...ok('Alive.', 'Liveness'), ...problems() } },
  },
  '/health': {
    get: {
      operationId: 'cookbookHealth',
      summary: "Liveness in the cookbook hosting gateway's words",
      ...open,
      responses: { ...ok('Alive.', 'CookbookHealth'), ...problems() },
    },
  },
  '/readyz': {
    get: {
      operationId: 'readiness',
      summary: 'Readiness: the store answers, the sandbox platform answers, not draining',
      description: 'A load balancer stops sending traffic on 503, before a replica stops.',
      ...open,
      responses: { ...ok('Ready to serve.', 'Readiness'), ...problems(503) },
    },
  },
  '/metrics': {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus metrics of this replica',
      ...open,
      responses: {
        '200': { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } },
        ...problems(),
      },
    },
  },
  '/openapi.json': {
    get: {
      operationId: 'openApiDocument',
      summary: 'This API description (OpenAPI 3.1)',
      ...open,
      responses: { '200': { description: 'This document.', content: { 'application/json': { schema: { type: 'object' } } } }, ...problems() },
    },
  },
  '/api/pool': {
    get: {
      operationId: 'pool',
      summary: 'Warm pool status per profile',
      tags: ['operations'],
      responses: { ...ok('Pools, in berth\'s shape and the cookbook\'s.', 'CallerPool'), ...problems(401) },
    },
  },
  '/api/usage': {
    get: {
      operationId: 'usage',
      summary: "The caller's metered model tokens, in total and per session (paged), and its budget window",
      description: 'Tenants only (an admin token gets 403; operators use `/admin/usage`). Sessions come one page at a time in session-id order; the counters are lifetime counters, kept when a session is deleted.',
      tags: ['operations'],
      parameters: [ref('parameters', 'PageLimit'), ref('parameters', 'Cursor')],
      responses: { ...ok('Usage.', 'TenantUsage'), ...problems(400, 401, 403, 503) },
    },
  },
};
