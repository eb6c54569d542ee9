// The one unexpected outcome every store port shares: the store cannot be reached. The gateway's
// error map turns it into 503 store_unavailable.

export class StoreUnavailableError extends Error {
  readonly code = 'store_unavailable';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'StoreUnavailableError';
  }
}
