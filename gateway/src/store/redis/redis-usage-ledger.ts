// UsageLedger on Redis: one hash of counters per tenant (tenant total and per-session shares)
// and a sorted index of its session ids, written together (with any TTL) by one script and read
// by others — a page, the totals with a count, one session (redis-usage-scripts.ts); both keys
// share the tenant's slot.

import { type AddUsageOptions, type TokenUsage, type UsageLedger, type UsagePage, type UsageReport, type UsageSummary } from '../usage-ledger.js';
import { pageLimit } from '../session-listing.js';
import { decodeSessionUsage, decodeUsage, decodeUsagePage, decodeUsageSummary, usageArgs } from './redis-codec.js';
import type { RedisCommands } from './redis-commands.js';

export class RedisUsageLedger implements UsageLedger {
  constructor(private readonly redis: RedisCommands) {}

  async addUsage(tenant: string, sessionId: string, usage: TokenUsage, options: AddUsageOptions = {}): Promise<void> {
    const { keys } = this.redis;
    await this.redis.script('berthAddUsage', keys.tenantUsage(tenant), keys.tenantUsageSessions(tenant), ...usageArgs(sessionId, usage, options.ttlMs));
  }

  async getUsage(tenant: string): Promise<UsageReport> {
    return decodeUsage(await this.redis.run(() => this.redis.client.hgetall(this.redis.keys.tenantUsage(tenant))));
  }

  async usageSummary(tenant: string): Promise<UsageSummary> {
    const { keys } = this.redis;
    return decodeUsageSummary((await this.redis.script('berthUsageSummary', keys.tenantUsage(tenant), keys.tenantUsageSessions(tenant))) as Array<string | number>);
  }

  async sessionUsage(tenant: string, sessionId: string): Promise<TokenUsage | null> {
    const { keys } = this.redis;
    return decodeSessionUsage((await this.redis.script('berthSessionUsage', keys.tenantUsage(tenant), keys.tenantUsageSessions(tenant), sessionId)) as Array<string | number>);
  }

  async usagePage(tenant: string, page: { after: string | null; limit: number }): Promise<UsagePage> {
    const { keys } = this.redis;
    const reply = await this.redis.script('berthUsagePage', keys.tenantUsage(tenant), keys.tenantUsageSessions(tenant), pageLimit(page.limit), page.after ?? '');
    return decodeUsagePage(reply as string[]);
  }
}
