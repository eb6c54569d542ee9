// The gateway's one exhaustive map from domain errors to problems (RFC 9457), and the express
// error middleware that uses it. Only this file and the SSE relay decide how errors look on the
// wire; protocol's writeProblem writes them. Messages never carry secrets; unexpected errors are
// logged and answered as `internal`.

import type { ErrorRequestHandler, Response } from 'express';
import { BerthError, writeProblem, type ProblemCode } from '@berth/protocol';
import { isSandboxError, type SandboxErrorCode } from '@berth/orchestrator';
import { StoreUnavailableError } from './store/store-unavailable.js';
import type { Logger } from './log.js';

const SANDBOX_PROBLEMS: Record<SandboxErrorCode, ProblemCode> = {
  capacity_exhausted: 'backend_unavailable',
  start_failed: 'sandbox_failed',
  unavailable: 'backend_unavailable',
  timeout: 'backend_unavailable',
  not_found: 'sandbox_failed',
  unknown_profile: 'internal',
  // The backend cannot serve as configured; a deployment fix, not a caller's retry, mends it.
  invalid_config: 'backend_unavailable',
  stopped: 'backend_unavailable',
};

export interface MappedProblem {
  code: ProblemCode;
  detail: string;
  retryAfterS?: number;
  /** Unexpected: log with stack. */
  unexpected: boolean;
  /** The caller went away mid-request: logged at info, without a stack (it is not our fault). */
  clientAborted?: boolean;
}

export function mapError(error: unknown): MappedProblem {
  if (error instanceof BerthError) {
    const mapped: MappedProblem = { code: error.code, detail: error.message, unexpected: false };
    if (error.retryAfterS !== undefined) mapped.retryAfterS = error.retryAfterS;
    return mapped;
  }
  if (isSandboxError(error)) {
    const code = SANDBOX_PROBLEMS[error.code];
    // A config error is logged like a bug and carries no Retry-After: waiting does not mend it.
    const retryAfterS = code === 'backend_unavailable' && error.code !== 'invalid_config' ? 5 : undefined;
    return { code, detail: error.message, retryAfterS, unexpected: code === 'internal' || error.code === 'invalid_config' } as MappedProblem;
  }
  if (error instanceof StoreUnavailableError) {
    return { code: 'store_unavailable', detail: 'the route store is unreachable; retry shortly', retryAfterS: 2, unexpected: false };
  }
  const status = (error as { status?: unknown; type?: unknown }).status;
  const type = (error as { type?: unknown }).type;
  const code = (error as { code?: unknown }).code;
  if (type === 'request.aborted' || code === 'ECONNABORTED' || code === 'ECONNRESET') {
    return { code: 'invalid_body', detail: 'the client aborted the request', unexpected: false, clientAborted: true };
  }
  if (type === 'entity.too.large' || status === 413) return { code: 'payload_too_large', detail: 'the request body exceeds the limit', unexpected: false };
  if (type === 'entity.parse.failed') return { code: 'invalid_body', detail: 'the body is not valid JSON', unexpected: false };
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return { code: 'invalid_body', detail: 'unsupported body encoding', unexpected: false };
  return { code: 'internal', detail: 'an internal error occurred', unexpected: true };
}

export function sendProblem(res: Response, mapped: Pick<MappedProblem, 'code' | 'detail' | 'retryAfterS'>, instance?: string): void {
  writeProblem(res, mapped.code, {
    detail: mapped.detail,
    ...(mapped.retryAfterS !== undefined ? { retryAfterS: mapped.retryAfterS } : {}),
    ...(instance ? { instance } : {}),
  });
}

export function errorMiddleware(log: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const mapped = mapError(error);
    if (mapped.unexpected) log.error({ err: error, path: req.path }, 'unexpected error');
    if (mapped.clientAborted) log.info({ path: req.path, method: req.method }, 'client aborted the request');
    sendProblem(res, mapped, req.originalUrl.split('?')[0]);
  };
}
