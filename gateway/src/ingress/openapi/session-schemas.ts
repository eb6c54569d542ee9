// Schemas of the session resources: what callers send (a message, an approval answer) and what
// they read (the session view, lists, delete and control answers). They restate
// ingress/routes-sessions.ts sessionView(), routes-admin.ts adminSessionView() and the bodies
// the routes accept; tests/integration/openapi-responses.test.ts holds real answers against them.
// Closed objects (additionalProperties: false) where berth owns the shape, so a field added to
// a view without a line here fails that test, and a field that must never appear (a sandbox
// URL, its token) cannot slip in unnoticed.

import { SESSION_ID_PATTERN } from '@berth/protocol';
import type { SessionStatus } from '../../session-events.js';
import { DEFAULT_SESSION_PAGE, MAX_SESSION_PAGE } from '../../store/session-listing.js';
import { MAX_PROMPT_CHARS } from '../request-input.js';
import { ref, type Schema } from './types.js';

const SESSION_STATUSES = ['idle', 'running', 'awaiting_approval', 'rescheduling', 'terminated'] as const satisfies readonly SessionStatus[];
// Compile-time: every SessionStatus is listed (a new status fails the build until documented).
const everyStatus: [Exclude<SessionStatus, (typeof SESSION_STATUSES)[number]>] extends [never] ? true : never = true;
void everyStatus;

const timestamp: Schema = { type: 'string', format: 'date-time' };
const nullable = (schema: Schema | { $ref: string }): Schema => ({ oneOf: [schema, { type: 'null' }] });

/** The caller's view of a session (sessionView in routes-sessions.ts). */
const sessionViewProperties: Record<string, unknown> = {
  id: ref('schemas', 'SessionId'),
  tenant: { type: 'string', description: 'The owning tenant.' },
  profile: { type: 'string', description: 'The sandbox profile its sandboxes come from.' },
  createdAt: timestamp,
  lastActivityAt: timestamp,
  turns: { type: 'integer', minimum: 0, description: 'Turns started on the session.' },
  status: { enum: SESSION_STATUSES, description: 'Where the session is now.' },
  currentTurn: { ...nullable({ type: 'integer', minimum: 1 }), description: 'The running turn; null when idle.' },
  lastStopReason: { ...nullable(ref('schemas', 'StopReason')), description: "The last finished turn's stop reason." },
  sandbox: {
    ...nullable({
      type: 'object',
      required: ['profile', 'claimedAt'],
      properties: { profile: { type: 'string' }, claimedAt: timestamp },
      additionalProperties: false,
    }),
    description: 'The bound sandbox (never its address or credential); null while none is bound (new, reaped, lost).',
  },
};

/** The operator's view (adminSessionView in routes-admin.ts): the caller's plus ids that stay server-side for callers. */
const adminViewProperties: Record<string, unknown> = {
  ...sessionViewProperties,
  sdkSessionId: { ...nullable({ type: 'string' }), description: "The Agent SDK's own session id, once the first turn reported it." },
  sandbox: nullable({
    type: 'object',
    required: ['profile', 'claimedAt', 'sandboxId'],
    properties: { profile: { type: 'string' }, claimedAt: timestamp, sandboxId: { type: 'string' } },
    additionalProperties: false,
  }),
};

const pageParams = `One page at a time: \`limit\` (default ${DEFAULT_SESSION_PAGE}, at most ${MAX_SESSION_PAGE}) and the previous page's \`nextCursor\` as \`cursor\`.`;

export const sessionSchemas: Record<string, Schema> = {
  SessionId: { type: 'string', pattern: SESSION_ID_PATTERN.source, description: 'Chosen by the caller; the first message on an unknown id creates the session.', examples: ['demo-1'] },
  SessionView: {
    type: 'object',
    required: Object.keys(sessionViewProperties),
    properties: sessionViewProperties,
    additionalProperties: false,
  },
  SessionList: {
    type: 'object',
    description: `The caller's sessions, newest first. ${pageParams}`,
    required: ['sessions', 'nextCursor'],
    properties: {
      sessions: { type: 'array', items: ref('schemas', 'SessionView') },
      nextCursor: { ...nullable({ type: 'string' }), description: 'Opaque; pass as `cursor` for the next page. null on the last page.' },
    },
    additionalProperties: false,
  },
  AdminSessionView: {
    type: 'object',
    description: "An operator's view: the caller's view plus the SDK session id and the sandbox id (never its URL or token).",
    required: Object.keys(adminViewProperties),
    properties: adminViewProperties,
    additionalProperties: false,
  },
  AdminSessionList: {
    type: 'object',
    description: `Every tenant's sessions in id order, or with \`tenant\` that tenant's, newest first. ${pageParams}`,
    required: ['sessions', 'nextCursor'],
    properties: {
      sessions: { type: 'array', items: ref('schemas', 'AdminSessionView') },
      nextCursor: { ...nullable({ type: 'string' }), description: 'Opaque; pass as `cursor` for the next page. null on the last page.' },
    },
    additionalProperties: false,
  },
  AdminSessionDetail: {
    type: 'object',
    description: "One session's operator view and its metered model tokens.",
    required: [...Object.keys(adminViewProperties), 'usage'],
    properties: {
      ...adminViewProperties,
      usage: { ...nullable(ref('schemas', 'TokenUsage')), description: 'null before its first metered model call.' },
    },
    additionalProperties: false,
  },
  MessageRequest: {
    type: 'object',
    required: ['prompt'],
    properties: { prompt: { type: 'string', minLength: 1, maxLength: MAX_PROMPT_CHARS, description: 'Not only whitespace.' } },
  },
  SessionDeleted: {
    type: 'object',
    required: ['id', 'deleted', 'status'],
    properties: {
      id: ref('schemas', 'SessionId'),
      deleted: { type: 'boolean', description: 'false when there was no such session (a no-op).' },
      status: { const: 'deleted', description: "The cookbook hosting gateway's field, for its clients." },
    },
    additionalProperties: false,
  },
  AdminSessionDeleted: {
    type: 'object',
    required: ['id', 'tenant', 'deleted'],
    properties: { id: ref('schemas', 'SessionId'), tenant: { type: 'string' }, deleted: { type: 'boolean' } },
    additionalProperties: false,
  },
  InterruptResult: {
    type: 'object',
    required: ['interrupted'],
    properties: { interrupted: { type: 'boolean', description: 'false when no turn was running.' } },
    additionalProperties: false,
  },
  ApprovalAnswer: {
    type: 'object',
    required: ['decision'],
    properties: {
      decision: { enum: ['allow', 'deny'] },
      message: { type: 'string', description: 'Told to the agent with a deny; cut at 4 000 characters.' },
      updatedInput: { type: 'object', description: "With allow: replaces the tool call's input." },
    },
  },
  ApprovalResolved: {
    type: 'object',
    required: ['resolved'],
    properties: { resolved: { const: true } },
    additionalProperties: false,
  },
};
