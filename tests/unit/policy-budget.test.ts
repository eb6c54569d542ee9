// Pins gateway/src/policy/budget.ts and ingress/usage-report.ts: fixed windows aligned to the
// epoch, Retry-After pointing at the next window, the window ledger in the UsageLedger, and the
// body the ingress GET /api/usage route serves (over HTTP: tests/integration/usage-route.test.ts).
import { describe, expect, test } from 'vitest';
import { createMemoryStore } from '@berth/gateway';
import { budgetWindow, checkBudget, judgeBudget, recordUsage } from '@berth/gateway/policy';
import { tenantUsageReport } from '@berth/gateway/testing';

const budget = { tokens: 100, periodS: 3600 };
const usage = (input: number, output: number) => ({ inputTokens: input, outputTokens: output, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 });

describe('budget', () => {
  test('windows are fixed and aligned to the epoch', () => {
    expect(budgetWindow(budget, 3_600_000 * 5 + 1234)).toEqual({ startsAt: 3_600_000 * 5, endsAt: 3_600_000 * 6 });
  });

  test('judgeBudget: under is ok; at or over is refused with Retry-After to the window end (at least 1 s)', () => {
    expect(judgeBudget(budget, 99, 0).ok).toBe(true);
    expect(judgeBudget(budget, 100, 3_600_000 - 30_500)).toMatchObject({ ok: false, retryAfterS: 31 });
    expect(judgeBudget(budget, 500, 3_600_000 - 1)).toMatchObject({ ok: false, retryAfterS: 1 });
  });

  test('recorded usage counts in its window only; lifetime counters keep everything', async () => {
    const store = createMemoryStore().usage;
    const t0 = 3_600_000 * 10;
    await recordUsage(store, 'alice', 's1', usage(60, 50), budget, t0 + 5);
    expect(await checkBudget(store, 'alice', budget, t0 + 10)).toMatchObject({ ok: false, usedTokens: 110 });
    expect(await checkBudget(store, 'bob', budget, t0 + 10)).toMatchObject({ ok: true, usedTokens: 0 });
    expect(await checkBudget(store, 'alice', budget, t0 + 3_600_000)).toMatchObject({ ok: true, usedTokens: 0 });
    await recordUsage(store, 'alice', 's2', usage(1, 1), budget, t0 + 3_600_000);
    const report = await tenantUsageReport(store, 'alice', budget, t0 + 3_600_001);
    expect(report.total).toEqual(usage(61, 51));
    expect(report.nextCursor).toBeNull();
    expect(Object.keys(report.sessions).sort()).toEqual(['s1', 's2']);
    expect(report.budget).toEqual({
      tokens: 100,
      periodS: 3600,
      usedTokens: 2,
      remainingTokens: 98,
      windowStartsAt: new Date(t0 + 3_600_000).toISOString(),
      windowEndsAt: new Date(t0 + 7_200_000).toISOString(),
    });
  });

  test('without a budget the report has lifetime counters and budget null', async () => {
    const store = createMemoryStore().usage;
    await recordUsage(store, 'carol', 's1', usage(3, 4), undefined, 0);
    expect(await tenantUsageReport(store, 'carol', undefined, 0)).toEqual({
      tenant: 'carol',
      total: usage(3, 4),
      sessions: { s1: usage(3, 4) },
      nextCursor: null,
      budget: null,
    });
  });
});
