// Pins SingleFlight (orchestrator/src/pool/single-flight.ts): concurrent runs for one key share a
// promise, which is how concurrent claims for one session end up with one sandbox.
import { describe, expect, test } from 'vitest';
import { SingleFlight } from '@berth/orchestrator';

describe('SingleFlight', () => {
  test('concurrent runs of one key share one call; other keys run on their own', async () => {
    const flight = new SingleFlight<string, number>();
    let calls = 0;
    // Every run stays in flight until the gate opens, so all four overlap by construction.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const work = async (): Promise<number> => {
      calls += 1;
      await gate;
      return calls;
    };
    const running = Promise.all([flight.run('a', work), flight.run('a', work), flight.run('a', work), flight.run('b', work)]);
    open();
    const results = await running;
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
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    void flight.run('a', async () => {
      await gate;
      done = true;
      return 1;
    });
    void flight.run('b', async () => Promise.reject(new Error('x'))).catch(() => {});
    let settledYet = false;
    const settled = flight.settled().then(() => (settledYet = true));
    // Every queued continuation runs before setImmediate fires: only 'a' still holds settled().
    await new Promise((resolve) => setImmediate(resolve));
    expect(settledYet).toBe(false);
    open();
    await settled;
    expect(done).toBe(true);
  });
});
