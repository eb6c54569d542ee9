// @berth/orchestrator/modal: the modal backend's entry point (package.json exports). Its client library, if any,
// is still loaded by await import() only when the backend starts.
export * from './modal-backend.js';
export * from './modal-config.js';
export * from './modal-errors.js';
export * from './modal-platform.js';
export * from './modal-standby-pool.js';
export * from './sandbox-params.js';
export * from './standby-registry.js';
export * from './standby-rollout.js';
