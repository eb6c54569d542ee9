// Schemas of the operational answers: probes, pool status (berth's shape beside the cookbook's
// fields), metered usage, and the admin tenants-file check. They restate routes-ops.ts and
// routes-admin.ts; tests/integration/openapi-responses.test.ts holds real answers against them.

import type { BackendKind } from '@berth/orchestrator';
import { DEFAULT_USAGE_PAGE, MAX_USAGE_PAGE } from '../../store/usage-ledger.js';
import { ref, type Schema } from './types.js';

const BACKEND_KINDS = ['local', 'kubernetes', 'modal'] as const satisfies readonly BackendKind[];
// Compile-time: every backend kind is listed.
const everyKind: [Exclude<BackendKind, (typeof BACKEND_KINDS)[number]>] extends [never] ? true : never = true;
void everyKind;

const count: Schema = { type: 'integer', minimum: 0 };
const nullable = (schema: Schema | { $ref: string }): Schema => ({ oneOf: [schema, { type: 'null' }] });

const poolProperties: Record<string, unknown> = {
  profile: { type: 'string', description: 'The sandbox profile this pool serves.' },
  target: { ...count, description: 'Standbys the pool aims to keep.' },
  ready: { ...count, description: 'Standbys healthy and unclaimed.' },
  starting: { ...count, description: 'Standbys being created or not yet healthy.' },
  claimed: { ...count, description: 'Sandboxes bound to sessions.' },
  coldStarts: { ...count, description: 'Claims served by a cold start since this replica started.' },
  warmClaims: { ...count, description: 'Claims served from the pool since this replica started.' },
};

const status = (value: string): Schema => ({ type: 'object', required: ['status'], properties: { status: { const: value } }, additionalProperties: false });

export const opsSchemas: Record<string, Schema> = {
  Liveness: status('ok'),
  CookbookHealth: status('healthy'),
  Readiness: status('ready'),
  BackendKind: { enum: BACKEND_KINDS },
  PoolStatus: {
    type: 'object',
    required: Object.keys(poolProperties),
    properties: poolProperties,
    additionalProperties: false,
  },
  CallerPool: {
    type: 'object',
    description: "Warm pools per profile, and the cookbook hosting gateway's fields (its one pool is berth's pools summed).",
    required: ['backend', 'pools', 'target_size', 'ready_count', 'standby_pods'],
    properties: {
      backend: ref('schemas', 'BackendKind'),
      pools: { type: 'array', items: ref('schemas', 'PoolStatus') },
      target_size: count,
      ready_count: count,
      standby_pods: { type: 'array', items: { type: 'string' }, description: 'Ready standbys by id where the backend tracks them (local); empty elsewhere.' },
    },
    additionalProperties: false,
  },
  AdminPool: {
    type: 'object',
    required: ['backend', 'pools'],
    properties: {
      backend: ref('schemas', 'BackendKind'),
      pools: {
        type: 'array',
        items: {
          type: 'object',
          required: Object.keys(poolProperties),
          properties: { ...poolProperties, standbyIds: { type: 'array', items: { type: 'string' }, description: 'Ready standbys, where the backend tracks them itself (local).' } },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
  TokenUsage: {
    type: 'object',
    description: 'Model tokens the egress gateway metered from the model\'s answers (lifetime counters; kept when a session is deleted).',
    required: ['inputTokens', 'outputTokens', 'cacheCreationInputTokens', 'cacheReadInputTokens'],
    properties: { inputTokens: count, outputTokens: count, cacheCreationInputTokens: count, cacheReadInputTokens: count },
    additionalProperties: false,
  },
  TenantUsage: {
    type: 'object',
    description: `The caller's lifetime totals, one page of its sessions' counters (session-id order: \`limit\`, default ${DEFAULT_USAGE_PAGE}, at most ${MAX_USAGE_PAGE}, and the previous page's \`nextCursor\` as \`cursor\`), and its token budget's current window. \`total\` and \`budget\` are the same on every page.`,
    required: ['tenant', 'total', 'sessions', 'nextCursor', 'budget'],
    properties: {
      tenant: { type: 'string' },
      total: ref('schemas', 'TokenUsage'),
      sessions: { type: 'object', additionalProperties: ref('schemas', 'TokenUsage'), description: 'By session id: this page of them.' },
      nextCursor: { ...nullable({ type: 'string' }), description: 'Opaque; pass as `cursor` for the next page. null on the last page.' },
      budget: { ...nullable(ref('schemas', 'BudgetWindow')), description: 'null when the tenant has no token budget.' },
    },
    additionalProperties: false,
  },
  BudgetWindow: {
    type: 'object',
    description: 'The token budget\'s current window: fixed, `periodS` long, aligned to the Unix epoch; the window the quotas refuse turns on (429 budget_exhausted once `remainingTokens` is 0).',
    required: ['tokens', 'periodS', 'usedTokens', 'remainingTokens', 'windowStartsAt', 'windowEndsAt'],
    properties: {
      tokens: { ...count, description: 'Tokens per window (input, output, cache creation and cache read alike).' },
      periodS: { type: 'integer', minimum: 1, description: 'Window length in seconds.' },
      usedTokens: { ...count, description: 'Tokens metered in this window; may exceed `tokens` (turns running together overshoot).' },
      remainingTokens: { ...count, description: '`tokens` − `usedTokens`, never below 0.' },
      windowStartsAt: { type: 'string', format: 'date-time', description: 'ISO 8601 UTC.' },
      windowEndsAt: { type: 'string', format: 'date-time', description: 'ISO 8601 UTC: the next window starts here.' },
    },
    additionalProperties: false,
  },
  AdminTenantUsage: {
    type: 'object',
    required: ['tenant', 'total', 'sessions', 'nextCursor'],
    properties: {
      tenant: { type: 'string' },
      total: ref('schemas', 'TokenUsage'),
      sessions: { type: 'object', additionalProperties: ref('schemas', 'TokenUsage'), description: 'By session id: this page of them, in session-id order.' },
      nextCursor: { ...nullable({ type: 'string' }), description: 'Opaque; pass as `cursor` (with the same `tenant`) for the next page. null on the last page.' },
    },
    additionalProperties: false,
  },
  AdminUsage: {
    type: 'object',
    description: 'With `tenant`: that tenant\'s totals and one page of its sessions. Without: every tenant the tenants file names, with its totals and session count.',
    required: ['usage'],
    properties: {
      usage: {
        type: 'array',
        items: {
          oneOf: [
            ref('schemas', 'AdminTenantUsage'),
            {
              type: 'object',
              required: ['tenant', 'total', 'sessionCount'],
              properties: { tenant: { type: 'string' }, total: ref('schemas', 'TokenUsage'), sessionCount: count },
              additionalProperties: false,
            },
          ],
        },
      },
    },
    additionalProperties: false,
  },
  TenantsCheck: {
    type: 'object',
    description: 'The dry-run verdict on a tenants file: `ok` with what it defines, or every problem with its path. Never changes the running tenants.',
    oneOf: [
      {
        type: 'object',
        required: ['ok', 'problems', 'warnings', 'tenants', 'adminTokens'],
        properties: {
          ok: { const: true },
          problems: { type: 'array', items: { type: 'string' }, maxItems: 0 },
          warnings: { type: 'array', items: { type: 'string' }, description: "Not the file's fault: e.g. a sandboxProfile this gateway lacks." },
          tenants: { type: 'array', items: { type: 'string' } },
          adminTokens: { ...count, description: 'How many admin token hashes the file holds.' },
        },
        additionalProperties: false,
      },
      {
        type: 'object',
        required: ['ok', 'problems', 'warnings'],
        properties: {
          ok: { const: false },
          problems: { type: 'array', items: { type: 'string' }, minItems: 1 },
          warnings: { type: 'array', items: { type: 'string' }, maxItems: 0 },
        },
        additionalProperties: false,
      },
    ],
  },
};
