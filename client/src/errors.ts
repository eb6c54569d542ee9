// The client's one error class. Every failure a call can throw is a BerthApiError with a stable
// string `code`: the server's problem code (RFC 9457 problem+json, codes as in berth's problem
// registry) when it answered one, else one of the client's own codes below. The cause (a
// network error, a parse error) is passed through. A turn that fails after its stream started
// is not thrown: it arrives as a typed `error` event (events.ts).

/** An RFC 9457 problem as berth writes it: `code` is berth's stable snake_case code. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

/**
 * The client's own codes, for failures without a problem body:
 * - network_error: no answer (connection refused or reset, DNS, TLS); status 0; `cause` says why.
 * - unexpected_response: an answer that is not berth's (a proxy's HTML 502, a non-JSON body).
 * - stream_cut: a stream ended before its terminal event and could not be resumed.
 * - stream_limit: a stream line or frame exceeded the client's bounds (SseLimits).
 * - invalid_stream: a frame whose data is not the JSON berth's contract promises.
 */
export type ClientErrorCode = 'network_error' | 'unexpected_response' | 'stream_cut' | 'stream_limit' | 'invalid_stream';

export interface BerthApiErrorInit {
  status: number;
  code: string;
  title: string;
  type?: string;
  detail?: string;
  problem?: Problem;
  retryAfterS?: number;
  cause?: unknown;
}

export class BerthApiError extends Error {
  /** HTTP status; 0 when no answer arrived. */
  readonly status: number;
  /** berth's problem code (`forbidden`, `turn_in_progress`, …) or a ClientErrorCode. */
  readonly code: string;
  /** The problem's stable type URI; `about:blank` for the client's own codes. */
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  /** The whole problem body as the server sent it, extensions included. */
  readonly problem: Problem | undefined;
  /** Seconds to wait before retrying, from Retry-After (429, 503). */
  readonly retryAfterS: number | undefined;

  constructor(init: BerthApiErrorInit) {
    super(`${init.status === 0 ? 'no answer' : init.status} ${init.code}: ${init.detail ?? init.title}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'BerthApiError';
    this.status = init.status;
    this.code = init.code;
    this.type = init.type ?? 'about:blank';
    this.title = init.title;
    this.detail = init.detail;
    this.problem = init.problem;
    this.retryAfterS = init.retryAfterS;
  }
}

/** Largest error body read, in bytes. Default 64 KiB: problems are small; a proxy's page is cut. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Turns a non-2xx answer into a BerthApiError, reading its problem body when there is one. */
export async function errorFromResponse(res: Response): Promise<BerthApiError> {
  const retryAfterS = parseRetryAfter(res.headers.get('retry-after'));
  const text = await readBounded(res, MAX_ERROR_BODY_BYTES).catch(() => '');
  const problem = parseProblem(text);
  if (problem) {
    return new BerthApiError({
      status: res.status,
      code: problem.code,
      type: problem.type,
      title: problem.title,
      ...(problem.detail !== undefined ? { detail: problem.detail } : {}),
      problem,
      ...(retryAfterS !== undefined ? { retryAfterS } : {}),
    });
  }
  return new BerthApiError({
    status: res.status,
    code: 'unexpected_response',
    title: `HTTP ${res.status} without a problem body`,
    ...(text ? { detail: text.slice(0, 200) } : {}),
    ...(retryAfterS !== undefined ? { retryAfterS } : {}),
  });
}

export function networkError(cause: unknown, what: string): BerthApiError {
  const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
  return new BerthApiError({ status: 0, code: 'network_error', title: 'No answer from the berth gateway', detail: `${what}: ${reason}`, cause });
}

/** Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined otherwise. */
export function parseRetryAfter(value: string | null, now: () => number = Date.now): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,10}$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now()) / 1000));
}

function parseProblem(text: string): Problem | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const value = body as Record<string, unknown>;
  if (typeof value.code !== 'string' || typeof value.status !== 'number' || typeof value.title !== 'string') return undefined;
  return { ...value, type: typeof value.type === 'string' ? value.type : 'about:blank' } as Problem;
}

/** Reads at most maxBytes of a body as text, then drops the rest. */
async function readBounded(res: Response, maxBytes: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      total += value.length;
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(Math.min(total, maxBytes));
  let offset = 0;
  for (const part of parts) {
    const take = part.subarray(0, bytes.length - offset);
    bytes.set(take, offset);
    offset += take.length;
    if (offset >= bytes.length) break;
  }
  return new TextDecoder().decode(bytes);
}
