// Pins the suites' one bounded poll (tests/fixtures/wait-for.ts): it returns the first truthy
// value, and a wait that runs out fails naming what it waited for and the last thing it saw.
// Fake timers: the bound is exercised without waiting it out.
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { waitFor } from '../fixtures/wait-for.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('waitFor', () => {
  test('returns the first truthy value of the check', async () => {
    let n = 0;
    const waiting = waitFor('n to reach 3', () => (++n >= 3 ? { n } : null), { intervalMs: 10 });
    await vi.advanceTimersByTimeAsync(50);
    await expect(waiting).resolves.toEqual({ n: 3 });
  });

  test('fails after timeoutMs, naming what it waited for and the last value', async () => {
    const waiting = waitFor('the pool to fill', () => false, { timeoutMs: 1000, intervalMs: 100 });
    const failed = expect(waiting).rejects.toThrow('timed out after 1000 ms waiting for the pool to fill (last value: false)');
    await vi.advanceTimersByTimeAsync(1100);
    await failed;
  });

  test('a throwing check fails at once unless retryErrors is set; then the last error is the cause', async () => {
    await expect(waitFor('a bug', () => { throw new Error('bug in the check'); })).rejects.toThrow('bug in the check');
    const boom = new Error('connection refused');
    const waiting = waitFor('a server', () => { throw boom; }, { timeoutMs: 200, retryErrors: true });
    const failed = expect(waiting).rejects.toMatchObject({ message: expect.stringContaining('last error: Error: connection refused'), cause: boom });
    await vi.advanceTimersByTimeAsync(300);
    await failed;
  });
});
