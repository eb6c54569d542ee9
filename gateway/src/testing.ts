// @berth/gateway/testing: the gateway's root modules that tests reach into (config, errors,
// metrics, the ingress server, the listing cursors' wire form, the usage report's body). Not for other packages: they
// import the named entries.
export * from './config.js';
export * from './errors.js';
export * from './gateway.js';
export * from './ingress/listing-cursor.js';
export { tenantUsageReport, type BudgetView, type UsageReportBody } from './ingress/usage-report.js';
export * from './log.js';
export * from './metrics.js';
export * from './profiles-file.js';
export * from './redis-from-config.js';
export * from './roots/role-config.js';
/** The SSE heartbeat interval: benchmarks size their quiet windows by it. */
export { HEARTBEAT_MS } from './ingress/sse-response.js';
// The caller-side tail the ingress routes serve streams with (the event-log bench drives it bare).
export { tailEvents, type TailOptions } from './ingress/event-tail.js';
