// The problem+json (RFC 9457) part of the API description, generated from the one registry in
// protocol/src/problems.ts so the document cannot drift from it: the `Problem` schema pins each
// code to its `type` URI, status and title, and one response component per status
// (`Problem404`, …) narrows the codes to those of that status. Which statuses an operation
// answers is written beside the operation (paths-*.ts); which codes a status carries is not.

import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, PROBLEMS, problemType, type ProblemCode } from '@berth/protocol';
import { ref, type Header, type Ref, type Response, type Responses, type Schema } from './types.js';

const CODES = Object.keys(PROBLEMS) as ProblemCode[];

/** Every status the registry uses, ascending. */
export const PROBLEM_STATUSES: readonly number[] = [...new Set(CODES.map((code) => PROBLEMS[code].status))].sort((a, b) => a - b);

/** Statuses whose answers may carry Retry-After (a quota, a drain, an unreachable dependency). */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

function codesWithStatus(status: number): ProblemCode[] {
  return CODES.filter((code) => PROBLEMS[code].status === status);
}

export const problemHeaders: Record<string, Header> = {
  RetryAfter: {
    description: 'Seconds to wait before retrying (RFC 9110 §10.2.3). Sent with 429 and 503 answers that know when capacity returns.',
    schema: { type: 'integer', minimum: 0 },
  },
  Allow: {
    description: 'The methods the path does serve (RFC 9110 §10.2.1).',
    required: true,
    schema: { type: 'string', examples: ['DELETE, GET, HEAD'] },
  },
};

export const problemSchemas: Record<string, Schema> = {
  ProblemCode: {
    type: 'string',
    enum: CODES,
    description:
      "berth's stable error codes, one registry for the gateway, the egress gateway and the agent server " +
      '(some codes belong to the latter two and never come from this API).\n\n| code | status | title |\n| --- | --- | --- |\n' +
      CODES.map((code) => `| \`${code}\` | ${PROBLEMS[code].status} | ${PROBLEMS[code].title} |`).join('\n'),
  },
  Problem: {
    type: 'object',
    description:
      `An error answered before any stream started, as \`${PROBLEM_CONTENT_TYPE}\` (RFC 9457). \`type\` is ` +
      `\`${PROBLEM_TYPE_BASE}<code with - for _>\`; \`code\` is the same, as a stable identifier for programs. ` +
      'Once a stream has started, errors are `event: error` frames instead (see `ErrorFrame`).',
    required: ['type', 'title', 'status', 'code'],
    properties: {
      type: { type: 'string', format: 'uri', description: 'Stable URI naming the problem type.' },
      title: { type: 'string', description: 'Short summary of the problem type; the same for every occurrence.' },
      status: { type: 'integer', enum: PROBLEM_STATUSES },
      code: ref('schemas', 'ProblemCode'),
      detail: { type: 'string', description: 'This occurrence, in words that name the fix. Never carries secrets.' },
      instance: { type: 'string', description: 'The request path the problem is about.' },
    },
    // Each code has exactly one type, status and title: the registry, restated as a schema.
    oneOf: CODES.map((code) => ({
      title: code,
      properties: {
        code: { const: code },
        type: { const: problemType(code) },
        status: { const: PROBLEMS[code].status },
        title: { const: PROBLEMS[code].title },
      },
    })),
  },
};

/** One response component per status: `Problem404` carries only the 404 codes. */
export const problemResponses: Record<string, Response> = Object.fromEntries([
  ...PROBLEM_STATUSES.map((status) => {
    const codes = codesWithStatus(status);
    const headers: Record<string, Ref> = {};
    if (RETRY_AFTER_STATUSES.has(status)) headers['Retry-After'] = ref('headers', 'RetryAfter');
    if (status === 405) headers['Allow'] = ref('headers', 'Allow');
    const response: Response = {
      description: `Problem: ${codes.map((code) => `\`${code}\` (${PROBLEMS[code].title})`).join(', ')}.`,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      content: { [PROBLEM_CONTENT_TYPE]: { schema: { type: 'object', allOf: [ref('schemas', 'Problem')], properties: { code: { enum: codes } } } } },
    };
    return [`Problem${status}`, response] as const;
  }),
  [
    'Problem',
    {
      description: 'Any other problem the gateway answers before a route runs or when something unexpected fails: 404 `not_found` (no such route), 405 `method_not_allowed` (with `Allow`), 408, 413, 431, 500.',
      content: { [PROBLEM_CONTENT_TYPE]: { schema: ref('schemas', 'Problem') } },
    },
  ],
]);

/**
 * The problem responses of an operation: the listed statuses, plus `default` for the rest. A
 * status the registry does not use is a programming error, caught when the document is built.
 */
export function problems(...statuses: number[]): Responses {
  const responses: Responses = {};
  for (const status of statuses) {
    if (!PROBLEM_STATUSES.includes(status)) throw new Error(`no problem code has status ${status}`);
    responses[String(status)] = ref('responses', `Problem${status}`);
  }
  responses['default'] = ref('responses', 'Problem');
  return responses;
}
