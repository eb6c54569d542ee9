// The store's public surface: the ports, the bundle and its two technologies.

export * from './store.js';
export * from './store-unavailable.js';
export * from './session-records.js';
export * from './session-listing.js';
export * from './sandbox-bindings.js';
export * from './transcript-log.js';
export * from './replay-buffer.js';
export * from './standby-registry.js';
export * from './usage-ledger.js';
export * from './quota-counters.js';
export * from './memory/memory-store.js';
export * from './redis/redis-store.js';
