// @berth/gateway/tenants: this folder's entry point (package.json exports); what is not re-exported here is private.
export * from './tenant.js';
export * from './tenants-file.js';
export * from './tenants-schema.js';
export * from './tenants-source.js';
