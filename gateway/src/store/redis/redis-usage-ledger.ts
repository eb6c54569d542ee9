// UsageLedger on Redis: one hash of counters per tenant (tenant total and per-session shares)
// and a sorted index of its session ids, written together by one script and paged by another
// (redis-usage-scripts.ts); both keys share the tenant's slot.

import { usagePageLimit, type TokenUsage, type UsageLedger, type UsagePage, type UsageReport } from '../usage-ledger.js';
import { decodeUsage, decodeUsagePage, usageArgs } from './redis-codec.js';
import type { RedisCommands } from './redis-commands.js';

export class RedisUsageLedger implements UsageLedger {
  constructor(private readonly redis: RedisCommands) {}

  async addUsage(tenant: string, sessionId: string, usage: TokenUsage): Promise<void> {
    const { keys } = this.redis;
    await this.redis.script('berthAddUsage', keys.tenantUsage(tenant), keys.tenantUsageSessions(tenant), ...usageArgs(sessionId, usage));
  }

  async getUsage(tenant: string): Promise<UsageReport> {
    return decodeUsage(await this.redis.run(() => this.redis.client.hgetall(this.redis.keys.tenantUsage(tenant))));
  }

  async usagePage(tenant: string, page: { after: string | null; limit: number }): Promise<UsagePage> {
    const { keys } = this.redis;
    const reply = await this.redis.script('berthUsagePage', keys.tenantUsage(tenant), keys.tenantUsageSessions(tenant), usagePageLimit(page.limit), page.after ?? '');
    return decodeUsagePage(reply as string[]);
  }
}
