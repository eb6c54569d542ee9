// Errors the model reverse proxy makes itself, in the Messages API's own error shape
// (`{"type":"error","error":{"type":…,"message":…}}`), because the caller is an Anthropic SDK
// (the Agent SDK's CLI inside a sandbox) that parses exactly that and decides retries from
// `x-should-retry`. The rest of berth answers problem+json; here the problem code rides along
// in `x-berth-problem` for logs and scripts. Neighbours: model-proxy.ts (the only caller).
//
// Retry policy, per the SDKs: `x-should-retry: true|false` overrides the status-based default.
// A spent token budget says false and sends no retry-after: the window may reset in hours, and
// an SDK that honoured it would hold the turn (and its sandbox) asleep that long; the turn ends
// now with the message instead, and the caller retries when the budget allows.

import type { ServerResponse } from 'node:http';
import type { ProblemCode } from '@berth/protocol';
import { BUDGET_REFUSAL_TAG, PROBLEMS } from '@berth/protocol';

/** The model-proxy problems and how each reads to an Anthropic SDK. */
const AS_MESSAGES_API = {
  not_found: { type: 'not_found_error', retry: false },
  unauthenticated: { type: 'authentication_error', retry: false },
  payload_too_large: { type: 'request_too_large', retry: false },
  budget_exhausted: { type: 'rate_limit_error', retry: false },
  // A missing key is configuration, not a blip: retrying cannot help.
  upstream_unconfigured: { type: 'api_error', retry: false },
  upstream_failed: { type: 'api_error', retry: true },
  upstream_timeout: { type: 'timeout_error', retry: true },
  store_unavailable: { type: 'api_error', retry: true },
} as const;

export type ModelErrorCode = keyof typeof AS_MESSAGES_API;

export interface ModelErrorOptions {
  message?: string;
  /** Seconds before a retry is worth it (short waits only: store_unavailable). */
  retryAfterS?: number;
}

/** The status, headers and body of one model-proxy error (pure: unit tests need no server). */
export function buildModelError(code: ModelErrorCode, options: ModelErrorOptions = {}): { status: number; headers: Record<string, string>; body: string } {
  const problem: ProblemCode = code === 'upstream_unconfigured' ? 'upstream_failed' : code;
  const { status, title } = PROBLEMS[problem];
  const { type, retry } = AS_MESSAGES_API[code];
  // The tag lets the agent tell a budget stop (stopReason budget_reached) from a failure.
  const tag = code === 'budget_exhausted' ? ` ${BUDGET_REFUSAL_TAG}` : '';
  const body = JSON.stringify({ type: 'error', error: { type, message: `berth egress gateway: ${options.message ?? title}${tag}` } });
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-should-retry': String(retry), 'x-berth-problem': problem };
  if (retry && options.retryAfterS !== undefined) headers['retry-after'] = String(options.retryAfterS);
  return { status, headers, body };
}

/** Answers with a Messages API error unless headers already went out, in which case the stream is cut. */
export function sendModelError(res: ServerResponse, code: ModelErrorCode, options: ModelErrorOptions = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, headers, body } = buildModelError(code, options);
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
