// The TurnLedger contract (gateway/src/store/turn-ledger.ts), run against every implementation:
// status through a turn's life, lease renewal only by its holder, hand-off, and take-over of an
// expired lease by exactly one of several concurrent takers.

import { describe, expect, it } from 'vitest';
import type { TurnLedger } from '@berth/gateway/store';

export interface TurnLedgerContractOptions {
  name: string;
  /** A fresh, empty ledger; calls with the same `shared` see the same data (replicas). */
  newLedger(options: { shared?: string }): Promise<TurnLedger>;
}

export function runTurnLedgerContract(options: TurnLedgerContractOptions): void {
  describe(`TurnLedger contract: ${options.name}`, () => {
    it('a session is idle until a turn begins; running, awaiting_approval, then idle with the stop reason', async () => {
      const ledger = await options.newLedger({});
      expect(await ledger.get('s1')).toEqual({ status: 'idle', currentTurn: null, lastStopReason: null });
      await ledger.begin('s1', 1, 'a', 10_000, 1000);
      expect(await ledger.get('s1')).toEqual({ status: 'running', currentTurn: 1, lastStopReason: null });
      await ledger.setStatus('s1', 1, 'awaiting_approval');
      await ledger.setStatus('s1', 9, 'running'); // not the running turn: ignored
      expect((await ledger.get('s1')).status).toBe('awaiting_approval');
      await ledger.end('s1', 1, 'end_turn');
      expect(await ledger.get('s1')).toEqual({ status: 'idle', currentTurn: null, lastStopReason: 'end_turn' });
      await ledger.begin('s1', 2, 'a', 10_000, 1000);
      await ledger.end('s1', 1, 'error:relay_lost'); // a stale end never ends the newer turn
      expect(await ledger.get('s1')).toEqual({ status: 'running', currentTurn: 2, lastStopReason: 'end_turn' });
      expect(await ledger.getMany(['s1', 'nope'])).toEqual([
        { status: 'running', currentTurn: 2, lastStopReason: 'end_turn' },
        { status: 'idle', currentTurn: null, lastStopReason: null },
      ]);
      await ledger.remove('s1');
      expect((await ledger.get('s1')).status).toBe('idle');
      await ledger.close();
    });

    it('only the holder renews; an expired lease is taken over once; an ended turn has no lease', async () => {
      const ledger = await options.newLedger({});
      await ledger.begin('s1', 1, 'a', 1_000, 10_000);
      expect(await ledger.renew('s1', 1, 'b', 1_000, 10_100)).toBe(false);
      expect(await ledger.renew('s1', 1, 'a', 1_000, 10_100)).toBe(true);
      expect(await ledger.takeExpired('b', 1_000, 10_500, 10)).toEqual([]);
      expect(await ledger.takeExpired('b', 1_000, 11_200, 10)).toEqual([{ sessionId: 's1', turn: 1 }]);
      expect(await ledger.renew('s1', 1, 'a', 1_000, 11_300)).toBe(false);
      expect(await ledger.renew('s1', 1, 'b', 1_000, 11_300)).toBe(true);
      await ledger.end('s1', 1, 'end_turn');
      expect(await ledger.takeExpired('c', 1_000, 99_999, 10)).toEqual([]);
      expect(await ledger.renew('s1', 1, 'b', 1_000, 11_400)).toBe(false);
      await ledger.close();
    });

    it("handOff lets the holder's lease lapse at once (a draining replica); others' hand-offs are ignored", async () => {
      const ledger = await options.newLedger({});
      await ledger.begin('s1', 4, 'a', 60_000, 1_000);
      await ledger.handOff('s1', 'b');
      expect(await ledger.takeExpired('c', 60_000, 2_000, 10)).toEqual([]);
      await ledger.handOff('s1', 'a');
      expect(await ledger.takeExpired('c', 60_000, 2_000, 10)).toEqual([{ sessionId: 's1', turn: 4 }]);
      await ledger.close();
    });

    it('of several replicas taking expired leases at once, each lease goes to exactly one', async () => {
      const replicas = await Promise.all(['a', 'b', 'c'].map(() => options.newLedger({ shared: 'race' })));
      for (let i = 0; i < 10; i++) await replicas[0]!.begin(`s${i}`, 1, 'dead', 100, 0);
      const taken = await Promise.all(replicas.map((ledger, i) => ledger.takeExpired(`r${i}`, 60_000, 1_000, 100)));
      const ids = taken.flat().map((t) => t.sessionId).sort();
      expect(ids).toEqual(Array.from({ length: 10 }, (_, i) => `s${i}`).sort());
      for (const ledger of replicas) await ledger.close();
    });
  });
}
