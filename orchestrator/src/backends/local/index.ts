// @berth/orchestrator/local: the local backend's entry point (package.json exports). Its client library, if any,
// is still loaded by await import() only when the backend starts.
export * from './agent-process.js';
export * from './jail.js';
export * from './local-process-backend.js';
