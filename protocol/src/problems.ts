// The one registry of berth's error codes: code → HTTP status, title and a stable `type` URI
// (RFC 9457). Gateway, egress gateway and agent server answer errors from this list only;
// a test pins the whole list, so a change here is a deliberate contract change.

export const PROBLEM_TYPE_BASE = 'https://berth.dev/problems/';

export const PROBLEMS = {
  invalid_session_id: { status: 400, title: 'Session id is invalid' },
  invalid_body: { status: 400, title: 'Request body is invalid' },
  unauthenticated: { status: 401, title: 'Credential missing or invalid' },
  forbidden: { status: 403, title: 'Not allowed for this caller' },
  egress_denied: { status: 403, title: 'Destination not on the egress allowlist' },
  not_found: { status: 404, title: 'No such resource' },
  session_not_found: { status: 404, title: 'No such session' },
  turn_not_found: { status: 404, title: 'No such turn on this session' },
  approval_not_found: { status: 404, title: 'No such pending approval request' },
  method_not_allowed: { status: 405, title: 'Method not allowed on this route' },
  proxy_auth_required: { status: 407, title: 'Proxy credential missing or invalid' },
  request_timeout: { status: 408, title: 'Request did not arrive in time' },
  turn_in_progress: { status: 409, title: 'A turn is already running on this session' },
  not_bootstrapped: { status: 409, title: 'Sandbox has not been bootstrapped' },
  already_bootstrapped: { status: 409, title: 'Sandbox is already bootstrapped' },
  replay_gap: { status: 410, title: 'Requested events are no longer in the session event log' },
  payload_too_large: { status: 413, title: 'Request body is too large' },
  unsupported_media_type: { status: 415, title: 'Content type must be application/json' },
  rate_limited: { status: 429, title: 'Request rate limit reached' },
  quota_exceeded: { status: 429, title: 'Tenant quota reached' },
  budget_exhausted: { status: 429, title: 'Tenant token budget spent' },
  headers_too_large: { status: 431, title: 'Request headers are too large' },
  internal: { status: 500, title: 'Internal error' },
  sandbox_failed: { status: 502, title: 'Sandbox failed' },
  upstream_failed: { status: 502, title: 'Upstream failed' },
  backend_unavailable: { status: 503, title: 'Sandbox backend unavailable' },
  store_unavailable: { status: 503, title: 'Route store unavailable' },
  draining: { status: 503, title: 'Gateway is shutting down' },
  upstream_timeout: { status: 504, title: 'Upstream timed out' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemType(code: ProblemCode): string {
  return PROBLEM_TYPE_BASE + code.replace(/_/g, '-');
}

export function isProblemCode(value: unknown): value is ProblemCode {
  return typeof value === 'string' && Object.hasOwn(PROBLEMS, value);
}

/** Builds the body for `code`; `detail` must already be free of secrets. */
export function problemBody(code: ProblemCode, detail?: string, extensions: Record<string, unknown> = {}): ProblemBody {
  const { status, title } = PROBLEMS[code];
  const body: ProblemBody = { ...extensions, type: problemType(code), title, status, code };
  if (detail !== undefined) body.detail = detail;
  return body;
}

/** One error base for berth, with a stable string code (the jose pattern). */
export class BerthError extends Error {
  readonly code: ProblemCode;
  readonly status: number;
  /** Seconds, for 429/503 answers that tell the caller when to come back. */
  readonly retryAfterS: number | undefined;

  constructor(code: ProblemCode, message?: string, options: { cause?: unknown; retryAfterS?: number } = {}) {
    super(message ?? PROBLEMS[code].title, { cause: options.cause });
    this.name = 'BerthError';
    this.code = code;
    this.status = PROBLEMS[code].status;
    this.retryAfterS = options.retryAfterS;
  }
}
