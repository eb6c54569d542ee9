// QuotaCounters in process memory: token buckets and lease sets on the store's clock.

import type { LeaseKind, LeaseResult, QuotaCounters, RateTake } from '../quota-counters.js';

export class MemoryQuotaCounters implements QuotaCounters {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** `${kind}\0${tenant}` → holder → expiry (ms on this store's clock). */
  private readonly leases = new Map<string, Map<string, number>>();

  constructor(private readonly now: () => number) {}

  async takeRateToken(tenant: string, capacity: number, refillPerS: number): Promise<RateTake> {
    const now = this.now();
    const bucket = this.buckets.get(tenant) ?? { tokens: capacity, at: now };
    const elapsedMs = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(capacity, bucket.tokens + (elapsedMs * refillPerS) / 1000);
    bucket.at = now;
    this.buckets.set(tenant, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true, remaining: Math.floor(bucket.tokens) };
    }
    return { ok: false, retryAfterMs: Math.max(1, Math.ceil(((1 - bucket.tokens) * 1000) / refillPerS)) };
  }

  async acquireLease(tenant: string, kind: LeaseKind, holder: string, limit: number, ttlMs: number): Promise<LeaseResult> {
    const key = `${kind}\0${tenant}`;
    const now = this.now();
    const set = this.leases.get(key) ?? new Map<string, number>();
    for (const [h, expiresAt] of set) if (expiresAt <= now) set.delete(h);
    this.leases.set(key, set);
    if (!set.has(holder) && set.size >= limit) return { ok: false, held: set.size };
    set.set(holder, now + ttlMs);
    return { ok: true, held: set.size };
  }

  async releaseLease(tenant: string, kind: LeaseKind, holder: string): Promise<void> {
    this.leases.get(`${kind}\0${tenant}`)?.delete(holder);
  }
}
