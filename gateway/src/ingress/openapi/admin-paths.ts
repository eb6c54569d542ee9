// The operator API under /admin (routes-admin.ts) as OpenAPI path items. Admin tokens only: a
// tenant token gets 403. It never shows a sandbox's URL or token and never changes the tenants.

import { ref, type PathItem, type Responses } from './types.js';
import { MAX_TENANTS_FILE_BYTES } from '../routes-admin.js';
import { problems } from './problems.js';

const ok = (description: string, schema: string): Responses => ({
  '200': { description, content: { 'application/json': { schema: ref('schemas', schema) } } },
});

/** Every admin route: the credential (401), an admin one (403), the store (503). */
const ADMIN_PROBLEMS = [401, 403, 503];

export const adminPaths: Record<string, PathItem> = {
  '/admin/sessions': {
    get: {
      operationId: 'adminListSessions',
      summary: "List every tenant's sessions (cursor paged)",
      tags: ['admin'],
      parameters: [ref('parameters', 'PageLimit'), ref('parameters', 'Cursor'), ref('parameters', 'TenantFilter')],
      responses: { ...ok('A page of sessions.', 'AdminSessionList'), ...problems(400, ...ADMIN_PROBLEMS) },
    },
  },
  '/admin/sessions/{id}': {
    parameters: [ref('parameters', 'SessionId')],
    get: {
      operationId: 'adminGetSession',
      summary: "Any tenant's session, with its metered tokens",
      tags: ['admin'],
      responses: { ...ok('The session.', 'AdminSessionDetail'), ...problems(400, ...ADMIN_PROBLEMS, 404) },
    },
    delete: {
      operationId: 'adminDeleteSession',
      summary: "Delete any tenant's session and release its sandbox",
      tags: ['admin'],
      responses: { ...ok('Deleted.', 'AdminSessionDeleted'), ...problems(400, ...ADMIN_PROBLEMS, 404) },
    },
  },
  '/admin/pool': {
    get: {
      operationId: 'adminPool',
      summary: 'Warm pools per profile, with standby ids where the backend knows them',
      tags: ['admin'],
      responses: { ...ok('Pool status.', 'AdminPool'), ...problems(...ADMIN_PROBLEMS) },
    },
  },
  '/admin/usage': {
    get: {
      operationId: 'adminUsage',
      summary: 'Metered model tokens per tenant, or one tenant\'s per session (paged)',
      description: 'Without `tenant`: one entry per tenant of the tenants file (totals and session count). With it: that tenant\'s entry with one page of its sessions, in session-id order, paged like `/api/usage`; `limit` and `cursor` without `tenant` are a 400.',
      tags: ['admin'],
      parameters: [ref('parameters', 'TenantFilter'), ref('parameters', 'PageLimit'), ref('parameters', 'Cursor')],
      responses: { ...ok('Usage per tenant.', 'AdminUsage'), ...problems(400, ...ADMIN_PROBLEMS) },
    },
  },
  '/admin/tenants/check': {
    post: {
      operationId: 'adminCheckTenants',
      summary: 'Dry-run check of a tenants file',
      description: 'Validates the posted file as the gateway would load it, and changes nothing. Any content type is read as text.',
      tags: ['admin'],
      requestBody: {
        description: `The tenants file, YAML text (at most ${MAX_TENANTS_FILE_BYTES} bytes).`,
        required: true,
        content: { 'application/yaml': { schema: { type: 'string', maxLength: MAX_TENANTS_FILE_BYTES } } },
      },
      responses: { ...ok('The verdict; an invalid file is a 200 with `ok: false` and its problems.', 'TenantsCheck'), ...problems(401, 403, 413) },
    },
  },
};
