// QuotaCounters on Redis: the rate bucket and the lease sets live in the tenant's slot; each
// take or acquire is one script on the server's clock (TIME).

import type { LeaseKind, LeaseResult, QuotaCounters, RateTake } from '../quota-counters.js';
import type { RedisCommands } from './redis-commands.js';

export class RedisQuotaCounters implements QuotaCounters {
  constructor(private readonly redis: RedisCommands) {}

  async takeRateToken(tenant: string, capacity: number, refillPerS: number): Promise<RateTake> {
    const reply = (await this.redis.script('berthTakeRateToken', this.redis.keys.tenantRate(tenant), capacity, refillPerS / 1000)) as number[];
    return reply[0] === 1 ? { ok: true, remaining: Number(reply[2]) } : { ok: false, retryAfterMs: Number(reply[1]) };
  }

  async acquireLease(tenant: string, kind: LeaseKind, holder: string, limit: number, ttlMs: number): Promise<LeaseResult> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const reply = (await this.redis.script('berthAcquireLease', this.redis.keys.tenantLeases(tenant, kind), holder, limit, ttl)) as number[];
    return { ok: reply[0] === 1, held: Number(reply[1]) };
  }

  async releaseLease(tenant: string, kind: LeaseKind, holder: string): Promise<void> {
    await this.redis.run(() => this.redis.client.zrem(this.redis.keys.tenantLeases(tenant, kind), holder));
  }
}
