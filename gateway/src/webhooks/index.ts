// @berth/gateway/webhooks: this folder's entry point (package.json exports); what is not re-exported here is private.
export * from '../store/webhook-queue.js';
export * from './webhook-payload.js';
export * from './webhook-address.js';
export * from './webhook-sender.js';
export * from './webhook-metrics.js';
export * from './retry-policy.js';
export * from './webhook-dispatcher.js';
export * from './webhook-sink.js';
export * from './webhooks.js';
