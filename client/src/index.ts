// @berth/client: a typed client for berth's caller and admin API. No runtime dependencies: the
// platform's fetch and streams, and a bounded SSE parser of its own.

export { BerthClient, type BerthClientOptions, type CallOptions, type EventsOptions, type PageOptions } from './client.js';
export { BerthAdmin, type AdminPageOptions } from './admin.js';
export { BerthEventStream, DEFAULT_IDLE_TIMEOUT_MS, type ReconnectInfo, type StreamOptions } from './event-stream.js';
export { DEFAULT_RECONNECT, reconnectDelayMs, type ReconnectOptions } from './reconnect-policy.js';
export { BerthApiError, parseRetryAfter, type BerthApiErrorInit, type ClientErrorCode, type Problem } from './errors.js';
export { DEFAULT_SSE_LIMITS, SseLimitError, SseParser, type SseFrame, type SseLimits } from './sse-parser.js';
export { isTerminal, resultOf } from './events.js';
export type * from './events.js';
export type * from './views.js';
export type { TokenSource } from './http.js';
