export * from './session-id.js';
export * from './sse.js';
export * from './problems.js';
export * from './problem-writer.js';
export * from './transcript.js';
export * from './agent-api.js';
export * from './egress-key.js';
