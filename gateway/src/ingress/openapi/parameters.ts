// Parameters and request headers the routes read: path ids, the EventSource cursor (Last-Event-ID
// or its query-string twins), the event page, and the listings' paging (sessions, usage). Bounds
// come from the constants the routes enforce, so the document states the limits the code applies.

import { DEFAULT_SESSION_PAGE, MAX_SESSION_PAGE } from '../../store/session-listing.js';
import { MAX_EVENT_READ } from '../../store/event-log.js';
import { DEFAULT_EVENT_PAGE } from '../routes-sessions.js';
import { TENANT_NAME_PATTERN } from '../../tenants/tenants-schema.js';
import { ref, type Parameter } from './types.js';

/** Longest cursor id the routes read; longer values are cut to it (and then name no frame). */
const MAX_EVENT_ID_CHARS = 128;

const cursorId = { type: 'string', maxLength: MAX_EVENT_ID_CHARS, examples: ['3:7'] };

export const parameters: Record<string, Parameter> = {
  SessionId: { name: 'id', in: 'path', required: true, description: 'The session id.', schema: ref('schemas', 'SessionId') },
  RequestId: {
    name: 'requestId',
    in: 'path',
    required: true,
    description: "The `requestId` of the `approval_request` frame being answered.",
    schema: { type: 'string', maxLength: 128 },
  },
  LastEventId: {
    name: 'Last-Event-ID',
    in: 'header',
    description: 'The id of the last frame received (EventSource sends it when it reconnects): the stream resumes right after it.',
    schema: cursorId,
  },
  After: {
    name: 'after',
    in: 'query',
    description: 'Same as `Last-Event-ID`, for clients that cannot set headers; the header wins when both are sent.',
    schema: cursorId,
  },
  LastEventIdQuery: {
    name: 'lastEventId',
    in: 'query',
    description: 'Same as `Last-Event-ID`, for clients that cannot set headers; the header wins when both are sent.',
    schema: cursorId,
  },
  Follow: {
    name: 'follow',
    in: 'query',
    description: "`1` (or `true`): keep tailing across turns instead of ending after the turn's terminal frame.",
    schema: { enum: ['1', 'true', '0', 'false'] },
  },
  Format: {
    name: 'format',
    in: 'query',
    description: '`json`: answer one page of the event log as JSON (`EventPage`) instead of a stream.',
    schema: { const: 'json' },
  },
  EventLimit: {
    name: 'limit',
    in: 'query',
    description: `With \`format=json\`: frames per page (default ${DEFAULT_EVENT_PAGE}).`,
    schema: { type: 'integer', minimum: 1, maximum: MAX_EVENT_READ, default: DEFAULT_EVENT_PAGE },
  },
  PageLimit: {
    name: 'limit',
    in: 'query',
    description: 'Sessions per page.',
    schema: { type: 'integer', minimum: 1, maximum: MAX_SESSION_PAGE, default: DEFAULT_SESSION_PAGE },
  },
  Cursor: {
    name: 'cursor',
    in: 'query',
    description: "The previous page's `nextCursor` (opaque); absent for the first page.",
    schema: { type: 'string' },
  },
  TenantFilter: {
    name: 'tenant',
    in: 'query',
    description: 'Only this tenant.',
    schema: { type: 'string', pattern: TENANT_NAME_PATTERN },
  },
};
