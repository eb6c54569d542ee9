// @berth/agent-image/testing: the agent server's internals the unit tests pin. Not a public API.
export * from './approvals.js';
export * from './bootstrap.js';
export * from './children.js';
export * from './held-prompt.js';
export * from './permissions.js';
export * from './requests.js';
export * from './session-store.js';
export * from './turn.js';
export * from './turn-log.js';
