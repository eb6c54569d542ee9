// SandboxError: the one domain error of the orchestrator. Backends translate their platform's
// failures (Kubernetes status codes, Modal gRPC codes, child-process errors) into these codes at
// the adapter edge; the gateway's error map turns them into problems. Never put credentials or
// raw platform payloads in the message.

export type SandboxErrorCode =
  /** The platform has no room (quota, resource exhausted, pool and cold start both failed). */
  | 'capacity_exhausted'
  /** The sandbox was created but never became healthy. */
  | 'start_failed'
  /** The platform's API is unreachable or answered 5xx. */
  | 'unavailable'
  /** A bounded wait ran out. */
  | 'timeout'
  /** The sandbox is gone (died, deleted, reaped). */
  | 'not_found'
  /** The profile named does not exist. */
  | 'unknown_profile'
  /**
   * The backend's own configuration is invalid (a pool or profile name the platform refuses, a
   * pool size out of range). Thrown when the backend is built, so a gateway fails at boot.
   */
  | 'invalid_config'
  /** The backend is stopping or not started. */
  | 'stopped';

export class SandboxError extends Error {
  readonly code: SandboxErrorCode;

  constructor(code: SandboxErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'SandboxError';
    this.code = code;
  }
}

export function isSandboxError(error: unknown): error is SandboxError {
  return error instanceof SandboxError;
}
