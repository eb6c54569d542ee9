// The store's public surface: the ports, the bundle and its two technologies.

export * from './store.js';
export * from './store-unavailable.js';
export * from './session-records.js';
export * from './session-listing.js';
export * from './sandbox-bindings.js';
export * from './transcript-log.js';
export * from './standby-registry.js';
export * from './usage-ledger.js';
export * from './quota-counters.js';
export * from './memory/memory-store.js';
export * from './redis/redis-store.js';
export * from './counted-transcript-log.js';
export * from './event-log.js';
export * from './memory-event-log.js';
export * from './memory-turn-ledger.js';
export * from './memory-webhook-queue.js';
export * from './redis-event-log.js';
export * from './redis-turn-ledger.js';
export * from './redis-webhook-queue.js';
export * from './redis/redis-keys.js';
export * from './redis/redis-scripts.js';
export * from './turn-ledger.js';
export * from './session-gate.js';
export * from './redis-session-gate.js';
