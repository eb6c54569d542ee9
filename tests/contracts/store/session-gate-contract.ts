// The SessionGate contract (gateway/src/store/session-gate.ts), run against every implementation:
// the rate token first (a refused request touches nothing), then ownership (another tenant's
// session is not stamped), the activity stamp, the session-lease renewal only for a session that
// holds a sandbox, and the turn state as the ledger holds it.

import { describe, expect, it } from 'vitest';
import type { Store } from '@berth/gateway';
import type { SessionGate } from '@berth/gateway/store';
import type { TurnLedger } from '@berth/gateway/store';
import { bind, record, T0 } from './store-contract-kit.js';

export interface GateParts {
  /** The gate and the ports it reads, sharing one fresh, empty data set. */
  gate: SessionGate;
  store: Store;
  ledger: TurnLedger;
  close(): Promise<void>;
}

export interface SessionGateContractOptions {
  name: string;
  newGate(): Promise<GateParts>;
}

/** A bucket that refills so slowly no token comes back within a test. */
const SLOW = { capacity: 2, refillPerS: 0.001 };

export function runSessionGateContract(options: SessionGateContractOptions): void {
  describe(`SessionGate contract: ${options.name}`, () => {
    it('absent, forbidden without a stamp, owned with the stamp and the turn state', async () => {
      const { gate, store, ledger, close } = await options.newGate();
      try {
        expect(await gate.enter({ sessionId: 's1', tenant: 'alice', now: T0 })).toEqual({ kind: 'absent' });
        await store.sessions.createSession(record('s1', 'alice'));
        expect(await gate.enter({ sessionId: 's1', tenant: 'bob', now: T0 + 500 })).toEqual({ kind: 'forbidden' });
        expect((await store.sessions.getSession('s1'))!.lastActivityAt).toBe(T0);
        const owned = await gate.enter({ sessionId: 's1', tenant: 'alice', now: T0 + 1000 });
        expect(owned).toEqual({ kind: 'owned', session: { ...record('s1', 'alice'), lastActivityAt: T0 + 1000 }, turn: { status: 'idle', currentTurn: null, lastStopReason: null } });
        await ledger.begin('s1', 3, 'replica-a', 60_000, T0);
        const running = await gate.enter({ sessionId: 's1', tenant: 'alice', now: T0 + 10 });
        expect(running.kind === 'owned' && running.turn).toEqual({ status: 'running', currentTurn: 3, lastStopReason: null });
        // Stamps never move backwards.
        expect(running.kind === 'owned' && running.session.lastActivityAt).toBe(T0 + 1000);
      } finally {
        await close();
      }
    });

    it('the rate token comes first: every request spends one, and a refused one reads and stamps nothing', async () => {
      const { gate, store, close } = await options.newGate();
      try {
        await store.sessions.createSession(record('s1', 'alice'));
        expect((await gate.enter({ sessionId: 'nope', tenant: 'alice', now: T0 + 1, rate: SLOW })).kind).toBe('absent');
        expect((await gate.enter({ sessionId: 's1', tenant: 'alice', now: T0 + 2, rate: SLOW })).kind).toBe('owned');
        const refused = await gate.enter({ sessionId: 's1', tenant: 'alice', now: T0 + 3, rate: SLOW });
        expect(refused.kind).toBe('rate_limited');
        expect(refused.kind === 'rate_limited' && refused.retryAfterMs).toBeGreaterThanOrEqual(1);
        expect((await store.sessions.getSession('s1'))!.lastActivityAt).toBe(T0 + 2);
        // Another tenant's bucket is its own; without a rate the gate takes no token.
        expect((await gate.enter({ sessionId: 's1', tenant: 'bob', now: T0 + 4, rate: SLOW })).kind).toBe('forbidden');
        expect((await gate.enter({ sessionId: 's1', tenant: 'alice', now: T0 + 5 })).kind).toBe('owned');
        // The bucket is the one QuotaCounters.takeRateToken spends (the routes without a session).
        expect((await store.quotas.takeRateToken('alice', SLOW.capacity, SLOW.refillPerS)).ok).toBe(false);
      } finally {
        await close();
      }
    });

    it("renews the session's lease only while it holds a sandbox", async () => {
      const { gate, store, close } = await options.newGate();
      try {
        await store.sessions.createSession(record('s1', 'alice'));
        await gate.enter({ sessionId: 's1', tenant: 'alice', now: T0 + 1, sessionLeaseTtlMs: 60_000 });
        // No sandbox: no lease taken, so another holder gets the only slot... and gives it back.
        expect(await store.quotas.acquireLease('alice', 'sessions', 'other', 1, 60_000)).toEqual({ ok: true, held: 1 });
        await store.quotas.releaseLease('alice', 'sessions', 'other');
        await bind(store.bindings, 's1', 'sb-1');
        await gate.enter({ sessionId: 's1', tenant: 'alice', now: T0 + 2, sessionLeaseTtlMs: 60_000 });
        expect(await store.quotas.acquireLease('alice', 'sessions', 'other', 1, 60_000)).toEqual({ ok: false, held: 1 });
        // Another tenant's request renews nothing of alice's.
        await store.quotas.releaseLease('alice', 'sessions', 's1');
        await gate.enter({ sessionId: 's1', tenant: 'bob', now: T0 + 3, sessionLeaseTtlMs: 60_000 });
        expect(await store.quotas.acquireLease('bob', 'sessions', 'other', 1, 60_000)).toEqual({ ok: true, held: 1 });
        expect(await store.quotas.acquireLease('alice', 'sessions', 'other', 1, 60_000)).toEqual({ ok: true, held: 1 });
      } finally {
        await close();
      }
    });
  });
}
