// @berth/gateway/quotas: this folder's entry point (package.json exports); what is not re-exported here is private.
export * from './ingress-quotas.js';
