// Maps what the `modal` client throws onto SandboxError codes, at the adapter edge, so nothing
// above modal-platform.ts ever sees a Modal or gRPC error. The client maps only a few call
// sites to its own classes (NotFoundError, ResourceExhaustedError, SandboxTimeoutError, …);
// everything else surfaces as nice-grpc's ClientError with a numeric gRPC `code`. Both are
// recognised by name and shape, so berth needs no direct nice-grpc dependency. Messages keep
// Modal's short `details` (never credentials: the client does not put tokens in errors).

import { SandboxError, type SandboxErrorCode } from '../../errors.js';

/** gRPC status codes (grpc/status.proto), the subset this mapping distinguishes. */
const GRPC = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const BY_CLASS: Record<string, SandboxErrorCode> = {
  NotFoundError: 'not_found',
  ResourceExhaustedError: 'capacity_exhausted',
  SandboxTimeoutError: 'timeout',
  TimeoutError: 'timeout',
  ClientClosedError: 'stopped',
  InternalFailure: 'unavailable',
  RemoteError: 'unavailable',
  AlreadyExistsError: 'start_failed',
  ConflictError: 'not_found',
  InvalidError: 'start_failed',
};

function codeForGrpc(code: number): SandboxErrorCode {
  switch (code) {
    case GRPC.NOT_FOUND:
      return 'not_found';
    case GRPC.RESOURCE_EXHAUSTED:
      return 'capacity_exhausted';
    case GRPC.DEADLINE_EXCEEDED:
      return 'timeout';
    case GRPC.INVALID_ARGUMENT:
    case GRPC.FAILED_PRECONDITION:
    case GRPC.ALREADY_EXISTS:
      return 'start_failed';
    default:
      // UNAVAILABLE, INTERNAL, UNKNOWN, CANCELLED (after the client's own 3 retries),
      // UNAUTHENTICATED / PERMISSION_DENIED (bad MODAL_TOKEN_*: the platform is unusable to us).
      return 'unavailable';
  }
}

interface GrpcLike {
  name: string;
  code: number;
  details?: string;
}

function isGrpcClientError(error: unknown): error is GrpcLike {
  return error instanceof Error && error.name === 'ClientError' && typeof (error as Partial<GrpcLike>).code === 'number';
}

/** The SandboxError for anything a Modal call threw; `action` says what berth was doing. */
export function toSandboxError(error: unknown, action: string): SandboxError {
  if (error instanceof SandboxError) return error;
  if (isGrpcClientError(error)) {
    const code = codeForGrpc(error.code);
    const hint = error.code === GRPC.UNAUTHENTICATED || error.code === GRPC.PERMISSION_DENIED ? ' (check MODAL_TOKEN_ID / MODAL_TOKEN_SECRET)' : '';
    return new SandboxError(code, `Modal: ${action} failed: ${truncate(error.details ?? '')}${hint}`, { cause: error });
  }
  if (error instanceof Error) {
    const code = BY_CLASS[error.name];
    if (code) return new SandboxError(code, `Modal: ${action} failed: ${truncate(error.message)}`, { cause: error });
    if (/missing credentials/i.test(error.message)) {
      return new SandboxError('unavailable', `Modal: ${action} failed: no Modal credentials (set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET)`, { cause: error });
    }
    // Plain Errors from the client are parameter validation (timeoutMs not whole seconds, …).
    return new SandboxError('start_failed', `Modal: ${action} failed: ${truncate(error.message)}`, { cause: error });
  }
  return new SandboxError('unavailable', `Modal: ${action} failed`, { cause: error });
}

/** True when the error means the sandbox (or the object looked up) no longer exists. */
export function isModalNotFound(error: unknown): boolean {
  return toSandboxError(error, '').code === 'not_found';
}

function truncate(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
