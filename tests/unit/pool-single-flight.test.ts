// Pins SingleFlight (orchestrator/src/pool/single-flight.ts): concurrent runs for one key share a
// promise, which is how concurrent claims for one session end up with one sandbox.
import { describe, expect, test } from 'vitest';
import { SingleFlight } from '@berth/orchestrator/pool/single-flight';

describe('SingleFlight', () => {
  test('concurrent runs of one key share one call; other keys run on their own', async () => {
    const flight = new SingleFlight<string, number>();
    let calls = 0;
    const work = async (): Promise<number> => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return calls;
    };
    const results = await Promise.all([flight.run('a', work), flight.run('a', work), flight.run('a', work), flight.run('b', work)]);
    expect(calls).toBe(2);
    expect(results[0]).toBe(results[1]);
    expect(results[1]).toBe(results[2]);
    expect(flight.get('a')).toBeUndefined();
  });

  test('a settled run is forgotten, so the next run calls again', async () => {
    const flight = new SingleFlight<string, number>();
    let calls = 0;
    await flight.run('a', async () => ++calls);
    await flight.run('a', async () => ++calls);
    expect(calls).toBe(2);
  });

  test('a synchronous throw rejects every sharer and leaves no stale entry', async () => {
    const flight = new SingleFlight<string, number>();
    const boom = (): Promise<number> => {
      throw new Error('boom');
    };
    const first = flight.run('a', boom);
    const second = flight.run('a', async () => 1);
    await expect(first).rejects.toThrow('boom');
    await expect(second).rejects.toThrow('boom');
    expect(flight.get('a')).toBeUndefined();
    await expect(flight.run('a', async () => 7)).resolves.toBe(7);
  });

  test('settled() waits for every run in flight and never rejects', async () => {
    const flight = new SingleFlight<string, number>();
    let done = false;
    void flight.run('a', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      done = true;
      return 1;
    });
    void flight.run('b', async () => Promise.reject(new Error('x'))).catch(() => {});
    await flight.settled();
    expect(done).toBe(true);
  });
});
