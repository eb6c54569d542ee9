// The SSE part of the API description: the frames a caller reads from a message POST, a resume,
// GET /sessions/{id}/stream and GET /sessions/{id}/events, and their payloads. The frames are the
// session's event log (store/event-log.ts) as the relay writes it (sessions/turn-relay.ts,
// turn-runner.ts) and the tail serves it (ingress/event-tail.ts); `transcript` frames travel
// agent → gateway only and are not part of this contract.
//
// OpenAPI 3.1 has no keyword for "each SSE frame": the `text/event-stream` body is described as
// an array of `StreamFrame`s (a frame with its `data` JSON-decoded), which OpenAPI 3.2 spells
// `itemSchema`. The JSON page of GET /sessions/{id}/events returns the same frame objects.

import { ref, type Header, type MediaType, type Schema } from './types.js';

const FRAME_ID_PATTERN = '^[0-9]{1,9}:[0-9]{1,9}$';

const frameId: Schema = {
  type: 'string',
  pattern: FRAME_ID_PATTERN,
  description: '`<turn>:<seq>`: turn ≥ 1; seq 0 is the turn frame, seq ≥ 1 number the agent\'s frames. Ids only grow within a session.',
  examples: ['3:0', '3:17'],
};

const stopReason: Schema = {
  type: 'string',
  maxLength: 80,
  description: 'Why the turn ended: `end_turn`, `max_turns`, `interrupted`, `budget_reached` or `error:<code>`.',
  examples: ['end_turn', 'interrupted', 'error:sandbox_lost'],
};

/** One frame schema: `event` fixed, `data` the payload schema, `id` always present but where noted. */
function frame(event: string, description: string, data: Schema, idRequired = true): Schema {
  return {
    type: 'object',
    description,
    required: idRequired ? ['id', 'event', 'data'] : ['event', 'data'],
    properties: { id: ref('schemas', 'FrameId'), event: { const: event }, data },
    additionalProperties: false,
  };
}

/** Caller-visible events, in the order a turn emits them. */
export const STREAM_EVENTS = ['turn', 'message', 'approval_request', 'approval_resolved', 'done', 'error'] as const;

export const eventSchemas: Record<string, Schema> = {
  FrameId: frameId,
  StopReason: stopReason,
  TurnFrame: frame('turn', 'First frame of every turn (`<turn>:0`), written when the agent accepted the turn: a stream is resumable from its first byte.', {
    type: 'object',
    required: ['sessionId', 'turn'],
    properties: { sessionId: ref('schemas', 'SessionId'), turn: { type: 'integer', minimum: 1 } },
    additionalProperties: false,
  }),
  MessageFrame: frame('message', 'One Agent SDK message (`SDKMessage`: system, assistant, user, stream_event, result, …), as the SDK emits it.', {
    type: 'object',
    required: ['type'],
    properties: { type: { type: 'string', examples: ['system', 'assistant', 'user', 'result'] } },
    additionalProperties: true,
  }),
  ApprovalRequestFrame: frame('approval_request', "The profile's permission policy asks the caller about a tool call; the turn waits (status `awaiting_approval`) for POST /sessions/{id}/approvals/{requestId}, or denies when the profile's approvalTimeoutS runs out.", {
    type: 'object',
    required: ['requestId', 'tool', 'input'],
    properties: {
      requestId: { type: 'string', maxLength: 128 },
      tool: { type: 'string', description: 'The tool the agent wants to call.' },
      input: { type: 'object', description: 'The tool call\'s input.' },
    },
    additionalProperties: false,
  }),
  ApprovalResolvedFrame: frame('approval_resolved', 'A tool call was decided: by the caller, by the timeout (deny), or by the policy without asking.', {
    type: 'object',
    required: ['requestId', 'decision', 'by'],
    properties: {
      requestId: { type: 'string', maxLength: 128 },
      decision: { enum: ['allow', 'deny'] },
      by: { enum: ['caller', 'timeout', 'policy'] },
    },
    additionalProperties: false,
  }),
  DoneFrame: frame('done', 'Terminal: the turn ended. Exactly one `done` or `error` ends every turn.', {
    type: 'object',
    required: ['sessionId', 'turn', 'stopReason'],
    properties: { sessionId: ref('schemas', 'SessionId'), turn: { type: 'integer', minimum: 1 }, stopReason: ref('schemas', 'StopReason') },
    additionalProperties: false,
  }),
  ErrorFrame: frame(
    'error',
    "Terminal: the turn failed (it carries `stopReason`), or only this reader's stream ends: `draining` (the gateway is shutting down; reconnect with Last-Event-ID), `replay_gap` (the cursor is not in the log), `store_unavailable`. Its `id` is the turn's when it ends the turn, the last id sent otherwise, and absent when none was.",
    {
      type: 'object',
      required: ['message', 'code'],
      properties: {
        message: { type: 'string', maxLength: 2000 },
        code: {
          type: 'string',
          maxLength: 64,
          description: 'Turn failures: `turn_failed`, `turn_timeout`, `frame_limit`, `turn_aborted`, `sandbox_lost`, `relay_lost`. Reader-only: `draining`, `replay_gap`, `store_unavailable`.',
          examples: ['turn_failed', 'sandbox_lost', 'replay_gap'],
        },
        stopReason: ref('schemas', 'StopReason'),
      },
      additionalProperties: false,
    },
    false,
  ),
  StreamFrame: {
    description: 'One frame of a session\'s event stream, its `data` JSON-decoded. On the wire: `id: <id>`, `event: <event>`, `data: <JSON>`, a blank line.',
    oneOf: ['TurnFrame', 'MessageFrame', 'ApprovalRequestFrame', 'ApprovalResolvedFrame', 'DoneFrame', 'ErrorFrame'].map((name) => ref('schemas', name)),
    discriminator: {
      propertyName: 'event',
      mapping: {
        turn: '#/components/schemas/TurnFrame',
        message: '#/components/schemas/MessageFrame',
        approval_request: '#/components/schemas/ApprovalRequestFrame',
        approval_resolved: '#/components/schemas/ApprovalResolvedFrame',
        done: '#/components/schemas/DoneFrame',
        error: '#/components/schemas/ErrorFrame',
      },
    },
  },
  EventStream: {
    type: 'array',
    items: ref('schemas', 'StreamFrame'),
    description:
      'The `text/event-stream` body, read as its sequence of frames (OpenAPI 3.2 would say `itemSchema`). A turn\'s stream is: ' +
      '`turn`, then `message`, `approval_request` and `approval_resolved` frames, then exactly one terminal `done` or `error`, ' +
      'after which the response ends (unless `follow=1`). A `: heartbeat` comment line is sent every 15 s so idle proxies keep the ' +
      'connection; EventSource clients ignore it.',
  },
  EventPage: {
    type: 'object',
    description: 'A page of the session\'s event log, oldest first.',
    required: ['events', 'nextAfter', 'last'],
    properties: {
      events: { type: 'array', items: ref('schemas', 'StreamFrame') },
      nextAfter: { oneOf: [ref('schemas', 'FrameId'), { type: 'null' }], description: 'Pass as `after` for the next page: the last id of this page (or the `after` given when the page is empty).' },
      last: { oneOf: [ref('schemas', 'FrameId'), { type: 'null' }], description: 'The log\'s last id now; null for an empty log.' },
    },
    additionalProperties: false,
  },
};

export const eventHeaders: Record<string, Header> = {
  CacheControl: { description: 'Streams are never cached nor transformed.', schema: { const: 'no-cache, no-transform' } },
};

/** The 200 body of every streaming route. */
export const eventStreamMedia: Record<string, MediaType> = {
  'text/event-stream': { schema: ref('schemas', 'EventStream') },
};
