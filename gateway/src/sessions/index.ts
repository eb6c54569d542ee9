// @berth/gateway/sessions: this folder's entry point (package.json exports); what is not re-exported here is private.
export * from './agent-turn.js';
export * from './sandbox-access.js';
export * from '../session-events.js';
export * from './session-service.js';
export * from './store-writer.js';
export * from './turn-runner.js';
export * from './turn-relay.js';
export * from './turn-task.js';
