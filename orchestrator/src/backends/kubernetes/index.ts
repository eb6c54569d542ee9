// @berth/orchestrator/kubernetes: the kubernetes backend's entry point (package.json exports). Its client library, if any,
// is still loaded by await import() only when the backend starts.
export * from './agent-token.js';
export * from './kubernetes-backend.js';
export * from './pod-claim.js';
export * from './pod-labels.js';
export * from './pod-manifest.js';
export * from './standby-pool.js';
