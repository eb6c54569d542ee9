// The caller API's session routes (routes-sessions.ts, routes-session-control.ts) as OpenAPI path
// items. Every route here needs a tenant token; each request spends one token of the tenant's
// rate bucket (429 rate_limited) and streaming requests count against the tenant's open-stream cap
// (429 quota_exceeded).

import { ref, type Operation, type PathItem, type Responses } from './types.js';
import { eventStreamMedia } from './events.js';
import { problems } from './problems.js';

const json = (schema: string) => ({ 'application/json': { schema: ref('schemas', schema) } });
const ok = (description: string, schema: string): Responses => ({ '200': { description, content: json(schema) } });

/** A 200 event stream. */
const stream = (description: string): Responses => ({
  '200': { description, headers: { 'Cache-Control': ref('headers', 'CacheControl') }, content: eventStreamMedia },
});

/** Problems every session route may answer: bad id, credential, owner, absent, rate, store. */
const SESSION_PROBLEMS = [400, 401, 403, 404, 429, 503];

const idParam = ref('parameters', 'SessionId');

const sendMessage: Operation = {
  operationId: 'sendMessage',
  summary: 'Send a message: start a turn and stream it',
  description:
    'Starts a turn with the prompt and streams it from its `turn` frame to its one terminal `done` or `error`. The first message on ' +
    "an unknown id creates the session, owned by the caller's tenant. The turn runs detached: a dropped connection never stops it; " +
    'read the rest with GET /sessions/{id}/events. With `Last-Event-ID` the POST starts nothing and resumes the stream after that id ' +
    "(a client retrying after a dropped connection). Any content type is read as JSON (the cookbook's `curl -d`). After the 200, " +
    'failures are `event: error` frames, never a status.',
  tags: ['sessions'],
  parameters: [ref('parameters', 'LastEventId')],
  requestBody: {
    description: 'The prompt. The whole body is bounded by BERTH_MAX_BODY_BYTES (default 256 KiB; 413 past it).',
    required: true,
    content: { 'application/json': { schema: ref('schemas', 'MessageRequest'), example: { prompt: 'What is in this repository?' } } },
  },
  responses: {
    ...stream('The turn\'s frames: `turn`, `message`…, `approval_request`/`approval_resolved`, then `done` or `error`.'),
    ...problems(...SESSION_PROBLEMS, 409, 413, 502),
  },
};

const streamResume: Operation = {
  operationId: 'resumeStream',
  summary: 'Resume a turn stream after a frame id',
  description:
    'The rest of the running (or last) turn after `Last-Event-ID` (or `?lastEventId=`), ending after its terminal frame. An id the ' +
    'log no longer holds gets one `event: error` frame with `code: replay_gap`.',
  tags: ['sessions'],
  parameters: [ref('parameters', 'LastEventId'), ref('parameters', 'LastEventIdQuery')],
  responses: { ...stream('The frames after the given id.'), ...problems(...SESSION_PROBLEMS) },
};

const events: Operation = {
  operationId: 'sessionEvents',
  summary: "Read the session's event log (EventSource), or a page of it as JSON",
  description:
    'EventSource semantics. Without a cursor: from the current (or last) turn\'s `turn` frame to its terminal frame. With ' +
    '`Last-Event-ID` or `?after=`: right after that frame. **204** when there is nothing left to stream: the cursor is a finished ' +
    "turn's terminal frame, or the session has no turn yet (the EventSource spec's \"stop reconnecting\"). `?follow=1` keeps " +
    "tailing across turns and never answers 204. `?format=json&after=&limit=` answers one page of the log as JSON instead " +
    '(410 `replay_gap` when `after` is not in the log). The log keeps 12 000 frames per session for a day after its last append.',
  tags: ['sessions'],
  parameters: ['LastEventId', 'After', 'Follow', 'Format', 'EventLimit'].map((name) => ref('parameters', name)),
  responses: {
    '200': {
      description: 'The stream; or, with `format=json`, one page of the log.',
      headers: { 'Cache-Control': ref('headers', 'CacheControl') },
      content: { ...eventStreamMedia, 'application/json': { schema: ref('schemas', 'EventPage') } },
    },
    '204': { description: 'Nothing left to stream (past the end of a finished turn, or no turn yet): an EventSource stops reconnecting.' },
    ...problems(...SESSION_PROBLEMS, 410),
  },
};

export const sessionPaths: Record<string, PathItem> = {
  '/sessions': {
    get: {
      operationId: 'listSessions',
      summary: "List the caller's sessions",
      description: 'Only the caller\'s own sessions, with their status; never sandbox addresses or credentials.',
      tags: ['sessions'],
      parameters: [ref('parameters', 'PageLimit'), ref('parameters', 'Cursor')],
      responses: { ...ok("A page of the caller's sessions.", 'SessionList'), ...problems(400, 401, 403, 429, 503) },
    },
  },
  '/sessions/{id}': {
    parameters: [idParam],
    get: {
      operationId: 'getSession',
      summary: 'Get a session: status, current turn, last stop reason',
      tags: ['sessions'],
      responses: { ...ok('The session.', 'SessionView'), ...problems(...SESSION_PROBLEMS) },
    },
    delete: {
      operationId: 'deleteSession',
      summary: 'Delete a session, its transcript, event log and sandbox',
      description: 'Owner only. An absent id is a 200 no-op with `deleted: false`.',
      tags: ['sessions'],
      responses: { ...ok('Deleted (or there was nothing to delete).', 'SessionDeleted'), ...problems(...SESSION_PROBLEMS) },
    },
  },
  '/sessions/{id}/messages': { parameters: [idParam], post: sendMessage },
  '/sessions/{id}/stream': { parameters: [idParam], get: streamResume },
  '/sessions/{id}/events': { parameters: [idParam], get: events },
  '/sessions/{id}/interrupt': {
    parameters: [idParam],
    post: {
      operationId: 'interruptTurn',
      summary: 'Interrupt the running turn',
      description: 'The turn ends with one terminal frame, `stopReason: interrupted`. Any replica may serve it.',
      tags: ['sessions'],
      responses: { ...ok('`interrupted: false` when no turn was running.', 'InterruptResult'), ...problems(...SESSION_PROBLEMS) },
    },
  },
  '/sessions/{id}/approvals/{requestId}': {
    parameters: [idParam, ref('parameters', 'RequestId')],
    post: {
      operationId: 'answerApproval',
      summary: 'Answer a tool call the permission policy asked about',
      description: 'Answers an `approval_request` frame. 404 `approval_not_found` once it was resolved (answered, or denied by the timeout).',
      tags: ['sessions'],
      requestBody: {
        description: 'The decision. Any content type is read as JSON.',
        required: true,
        content: { 'application/json': { schema: ref('schemas', 'ApprovalAnswer'), example: { decision: 'allow' } } },
      },
      responses: { ...ok('The agent took the answer.', 'ApprovalResolved'), ...problems(...SESSION_PROBLEMS, 413) },
    },
  },
};
