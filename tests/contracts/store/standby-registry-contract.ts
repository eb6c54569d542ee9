// The StandbyRegistry contract (orchestrator/src/backends/modal/standby-registry.ts, implemented
// by the gateway store): FIFO membership, and the claim race (a pop is atomic; pop and remove never
// both get one standby).
// Run per implementation through runStoreContracts (index.ts); harness: store-contract-kit.ts.

import { describe, expect } from 'vitest';
import { contractKit, type StoreContractOptions } from './store-contract-kit.js';

export function runStandbyRegistryContract(options: StoreContractOptions): void {
  describe(`StandbyRegistry contract: ${options.name}`, () => {
    const { newStore, it } = contractKit(options);

    it('FIFO: add, list, pop oldest first, remove by id; duplicates ignored; pools independent', async () => {
      const store = await newStore();
      expect(await store.standbys.popStandby('p')).toBeNull();
      for (const id of ['a', 'b', 'c']) await store.standbys.addStandby('p', { sandboxId: id, data: `data-${id}` });
      await store.standbys.addStandby('p', { sandboxId: 'a', data: 'again' });
      await store.standbys.addStandby('q', { sandboxId: 'z', data: 'data-z' });
      expect(await store.standbys.listStandbys('p')).toEqual(['a', 'b', 'c'].map((id) => ({ sandboxId: id, data: `data-${id}` })));
      expect(await store.standbys.popStandby('p')).toEqual({ sandboxId: 'a', data: 'data-a' });
      expect(await store.standbys.removeStandby('p', 'c')).toBe(true);
      expect(await store.standbys.removeStandby('p', 'c')).toBe(false);
      expect(await store.standbys.removeStandby('p', 'z')).toBe(false);
      expect(await store.standbys.listStandbys('p')).toEqual([{ sandboxId: 'b', data: 'data-b' }]);
      expect(await store.standbys.listStandbys('q')).toEqual([{ sandboxId: 'z', data: 'data-z' }]);
      expect(await store.standbys.listStandbys('empty')).toEqual([]);
    });

    it('50 concurrent pops of 10 standbys: 10 distinct standbys, 40 nulls', async () => {
      const store = await newStore();
      for (let i = 0; i < 10; i++) await store.standbys.addStandby('p', { sandboxId: `sb-${i}`, data: `d${i}` });
      const popped = await Promise.all(Array.from({ length: 50 }, () => store.standbys.popStandby('p')));
      const got = popped.filter((s) => s !== null);
      expect(got).toHaveLength(10);
      expect(new Set(got.map((s) => s!.sandboxId)).size).toBe(10);
      expect(got.every((s) => s!.data === `d${s!.sandboxId.slice(3)}`)).toBe(true);
      expect(await store.standbys.listStandbys('p')).toEqual([]);
    });

    it('concurrent pop and remove: each standby goes to exactly one of them', async () => {
      const store = await newStore();
      for (let i = 0; i < 10; i++) await store.standbys.addStandby('p', { sandboxId: `sb-${i}`, data: '' });
      const ops = Array.from({ length: 10 }, (_, i) => [store.standbys.popStandby('p'), store.standbys.removeStandby('p', `sb-${i}`)] as const);
      const popped = (await Promise.all(ops.map((o) => o[0]))).filter((s) => s !== null).map((s) => s!.sandboxId);
      const removed = (await Promise.all(ops.map((o) => o[1]))).flatMap((ok, i) => (ok ? [`sb-${i}`] : []));
      expect([...popped, ...removed].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `sb-${i}`).sort());
    });
  });
}
