// @berth/gateway/auth: this folder's entry point (package.json exports); what is not re-exported here is private.
export * from './authenticator.js';
export * from './composite-authenticator.js';
export * from './jwt-authenticator.js';
export * from './static-token-authenticator.js';
