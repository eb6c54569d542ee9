// Pins gateway/src/policy/budget.ts and ingress/usage-report.ts: fixed windows aligned to the
// epoch, Retry-After pointing at the next window, the window ledger in the UsageLedger and its
// expiry (on the memory store's injected clock; Redis TTLs: tests/integration/store.test.ts), and
// the body the ingress GET /api/usage route serves (over HTTP: tests/integration/usage-route.test.ts).
import { describe, expect, test } from 'vitest';
import { createMemoryStore } from '@berth/gateway';
import { BUDGET_WINDOW_GRACE_MS, budgetKey, budgetWindow, checkBudget, judgeBudget, recordUsage } from '@berth/gateway/policy';
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

  test('a window ledger expires BUDGET_WINDOW_GRACE_MS after its window ends; checkBudget reads the current window throughout; lifetime counters stay', async () => {
    const t0 = 3_600_000 * 20;
    let clock = t0;
    const store = createMemoryStore({ now: () => clock }).usage;
    const first = budgetWindow(budget, t0);
    // The gateway's now and the store's clock are one clock here, as in one process.
    clock = t0 + 5;
    await recordUsage(store, 'alice', 's1', usage(60, 50), budget, clock);
    clock = first.endsAt - 1;
    expect(await checkBudget(store, 'alice', budget, clock)).toMatchObject({ ok: false, usedTokens: 110 });
    // The next window starts empty while the closed one is still kept (the grace).
    clock = first.endsAt;
    expect(await checkBudget(store, 'alice', budget, clock)).toMatchObject({ ok: true, usedTokens: 0 });
    await recordUsage(store, 'alice', 's1', usage(3, 4), budget, clock);
    clock = first.endsAt + BUDGET_WINDOW_GRACE_MS - 1;
    expect((await store.usageSummary(budgetKey('alice', first))).tenant).toEqual(usage(60, 50));
    // At the end of the grace the closed window is gone; the current one and the lifetime counters are not.
    clock = first.endsAt + BUDGET_WINDOW_GRACE_MS;
    expect(await store.usageSummary(budgetKey('alice', first))).toEqual({ tenant: usage(0, 0), sessionCount: 0 });
    expect(await checkBudget(store, 'alice', budget, clock)).toMatchObject({ ok: true, usedTokens: 7 });
    expect(await store.usageSummary('alice')).toEqual({ tenant: usage(63, 54), sessionCount: 1 });
    expect(BUDGET_WINDOW_GRACE_MS).toBe(300_000);
  });

  test('the memory store drops windows nobody reads again: a day of hourly metering leaves the lifetime ledger and the windows still in their grace', async () => {
    const t0 = 3_600_000 * 30;
    let clock = t0;
    const store = createMemoryStore({ now: () => clock }).usage;
    for (let hour = 0; hour < 24; hour++) {
      clock = t0 + hour * 3_600_000 + 2 * BUDGET_WINDOW_GRACE_MS;
      await recordUsage(store, 'alice', `s${hour}`, usage(1, 1), budget, clock);
    }
    // The memory ledger's private map is the only view of what no read touches (a read would
    // drop an expired ledger itself): the sweep in addUsage must have emptied it of old windows.
    const held = [...(store as unknown as { usage: Map<string, unknown> }).usage.keys()].sort();
    expect(held).toEqual(['alice', budgetKey('alice', budgetWindow(budget, clock))].sort());
    expect((await store.usageSummary('alice')).sessionCount).toBe(24);
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
