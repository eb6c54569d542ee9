export * from './backend.js';
export * from './errors.js';
export * from './profile.js';
export * from './agent-client.js';
