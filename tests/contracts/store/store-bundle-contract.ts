// The Store bundle contract (gateway/src/store/store.ts): what belongs to the bundle rather than
// to a port — reachability (ping feeds /readyz) and that the ports of one bundle see one state.

import { describe, expect } from 'vitest';
import { bind, contractKit, record, type StoreContractOptions } from './store-contract-kit.js';

export function runStoreBundleContract(options: StoreContractOptions): void {
  describe(`Store bundle contract: ${options.name}`, () => {
    const { newStore, it } = contractKit(options);

    it('ping resolves while the store is reachable', async () => {
      const store = await newStore();
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('the ports of one bundle share one state; two bundles are independent', async () => {
      const store = await newStore();
      const other = await newStore();
      await store.sessions.createSession(record('s1', 'alice'));
      await bind(store.bindings, 's1', 'sb-1');
      expect((await store.listing.listSessions('alice')).sessions.map((s) => s.id)).toEqual(['s1']);
      expect(await store.bindings.countBoundSessions()).toBe(1);
      expect(await other.sessions.getSession('s1')).toBeNull();
      expect(await other.bindings.countBoundSessions()).toBe(0);
    });
  });
}
