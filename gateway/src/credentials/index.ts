// Session credentials' public surface: keys from BERTH_CREDENTIAL_KEYS (or generated), mint at
// claim, verify at the egress gateway. Import from '@berth/gateway/credentials'.

export * from './credential-keys.js';
export * from './credentials.js';
export * from './verified-cache.js';
