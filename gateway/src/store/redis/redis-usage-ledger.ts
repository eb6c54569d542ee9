// UsageLedger on Redis: one hash of counters per tenant (tenant total and per-session shares),
// incremented together by one script.

import type { TokenUsage, UsageLedger, UsageReport } from '../usage-ledger.js';
import { decodeUsage, usageArgs } from './redis-codec.js';
import type { RedisCommands } from './redis-commands.js';

export class RedisUsageLedger implements UsageLedger {
  constructor(private readonly redis: RedisCommands) {}

  async addUsage(tenant: string, sessionId: string, usage: TokenUsage): Promise<void> {
    await this.redis.script('berthAddUsage', this.redis.keys.tenantUsage(tenant), ...usageArgs(sessionId, usage));
  }

  async getUsage(tenant: string): Promise<UsageReport> {
    return decodeUsage(await this.redis.run(() => this.redis.client.hgetall(this.redis.keys.tenantUsage(tenant))));
  }
}
