// Runs the WebhookQueue contract against MemoryWebhookQueue (one process: a "second replica" is the
// same instance, which is what two callers in one gateway share).

import { MemoryWebhookQueue } from '@berth/gateway/store';
import { runWebhookQueueContract } from '../contracts/store/webhook-queue-contract.js';

runWebhookQueueContract({
  name: 'MemoryWebhookQueue',
  newQueue: async ({ sameStore }) => sameStore ?? new MemoryWebhookQueue(),
});
