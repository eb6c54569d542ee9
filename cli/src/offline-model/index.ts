// The offline model's public surface: `berth start --offline-model` and the tests import this.
export { startOfflineModel, type OfflineModel, type OfflineModelOptions, type RecordedRequest } from './server.js';
export { planReply, userPrompts, classifyRequest, type ScriptedReply, type ContentBlock } from './replies.js';
