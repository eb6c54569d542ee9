// berth's API description: the caller and admin API of the ingress gateway as one OpenAPI 3.1
// document, served at GET /openapi.json (routes-ops.ts). Assembled once from small parts, each
// beside what it describes: paths (session-paths.ts, admin-paths.ts, ops-paths.ts), schemas
// (session-schemas.ts, ops-schemas.ts, events.ts), problems generated from protocol's registry
// (problems.ts). Kept true by tests: tests/unit/openapi-document.test.ts (a real validator; every
// express route documented and every documented route served) and
// tests/integration/openapi-responses.test.ts (real answers against the schemas).
// It does not describe the agent server or the egress gateway: callers never reach them.

import { createRequire } from 'node:module';
import { adminPaths } from './admin-paths.js';
import { eventHeaders, eventSchemas } from './events.js';
import { opsPaths } from './ops-paths.js';
import { opsSchemas } from './ops-schemas.js';
import { parameters } from './parameters.js';
import { problemHeaders, problemResponses, problemSchemas } from './problems.js';
import { sessionPaths } from './session-paths.js';
import { sessionSchemas } from './session-schemas.js';
import type { OpenApiDocument } from './types.js';

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

const DESCRIPTION = `berth hosts Claude Agent SDK agents for many tenants: each session gets its own sandbox from a warm pool,
and its turns stream back as Server-Sent Events.

- **Credentials**: \`Authorization: Bearer <token>\`, a tenant token (or JWT) for the session routes and /api/*, an admin
  token for /admin/*. Probes, /metrics and this document need none.
- **Errors** before a stream starts are \`application/problem+json\` (RFC 9457) with a stable \`type\` and \`code\` (schema
  \`Problem\`); 429 and 503 carry \`Retry-After\`; 405 carries \`Allow\`. After a stream's 200, an error is one
  \`event: error\` frame.
- **Streams** (\`text/event-stream\`): every frame has an \`id\` (\`<turn>:<seq>\`) and a JSON \`data\`; every turn ends with
  exactly one \`done\` or \`error\`. Reconnect with \`Last-Event-ID\` (GET /sessions/{id}/events follows the EventSource rules,
  204 past the end). A \`: heartbeat\` comment comes every 15 s.
- **Sessions** are durable: a turn runs detached from the connection that started it; any replica serves any session.`;

export const openApiDocument: OpenApiDocument = deepFreeze({
  openapi: '3.1.1',
  info: { title: 'berth', version, summary: 'Multi-tenant hosting for Claude Agent SDK agents', description: DESCRIPTION },
  jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
  tags: [
    { name: 'sessions', description: 'Sessions, their turns and their event streams (tenant tokens).' },
    { name: 'operations', description: 'Probes, metrics, pool status, usage.' },
    { name: 'admin', description: 'The operator API (admin tokens).' },
  ],
  security: [{ bearer: [] }],
  paths: { ...sessionPaths, ...opsPaths, ...adminPaths },
  components: {
    schemas: { ...sessionSchemas, ...eventSchemas, ...opsSchemas, ...problemSchemas },
    responses: problemResponses,
    parameters,
    headers: { ...problemHeaders, ...eventHeaders },
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description: 'A tenant token or JWT (the tenants file says which), or an admin token for /admin/*.',
      },
    },
  },
});

/** The document as served: serialised once. */
export const openApiJson = JSON.stringify(openApiDocument);

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
