// @berth/gateway/policy: this folder's entry point (package.json exports); what is not re-exported here is private.
export * from './address-class.js';
export * from './allowlist.js';
export * from './budget.js';
export * from './host-parse.js';
export * from './resolver.js';
