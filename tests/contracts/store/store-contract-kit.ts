// What every store port contract shares: how a suite gets a fresh store bundle, the fake clock,
// skips with written reasons, and the fixtures (records, bindings, entries, usage).
// Each port's suite (beside this file) pins that port's methods and races; it may use other
// ports of the same bundle to set a case up (a binding needs a record). Time: the kit owns a fake
// clock passed as `now`; a store whose expiries run on a server clock (Redis PX/PEXPIRE/TIME)
// sets `serverClock`, and the kit then also waits the time it advances, using TTLs of tens to
// hundreds of milliseconds with wide margins. Each test gets a fresh, empty store.

import { afterEach, expect, test } from 'vitest';
import type { StoredTranscriptEntry } from '@berth/protocol';
import type { SandboxBinding, SandboxBindings, SessionRecord, Store, StoreLimits, TokenUsage } from '@berth/gateway';

export interface StoreContractOptions {
  name: string;
  /** A fresh, empty store bundle using `now` as its clock and `limits` over its defaults. */
  newStore(options: { now: () => number; limits: Partial<StoreLimits> }): Promise<Store>;
  /** Locks, leases and never-bound records expire on the store's own clock: the kit sleeps as it advances. */
  serverClock?: boolean;
  /** Test name → written reason for skipping it on this implementation. */
  skip?: Record<string, string>;
}

export const T0 = 1_700_000_000_000;

export interface ContractKit {
  newStore(limits?: Partial<StoreLimits>): Promise<Store>;
  now(): number;
  advance(ms: number): Promise<void>;
  it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
}

/** Call inside the suite's describe(): registers the teardown that closes every store it made. */
export function contractKit(options: StoreContractOptions): ContractKit {
  const open: Store[] = [];
  let clock = T0;
  afterEach(async () => {
    clock = T0;
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return {
    async newStore(limits = {}) {
      const store = await options.newStore({ now: () => clock, limits });
      open.push(store);
      return store;
    },
    now: () => clock,
    async advance(ms) {
      clock += ms;
      if (options.serverClock) await new Promise((r) => setTimeout(r, ms));
    },
    it(name, fn, timeoutMs) {
      const reason = options.skip?.[name];
      if (reason) test.skip(`${name} (skipped: ${reason})`, fn);
      else test(name, fn, timeoutMs);
    },
  };
}

export function record(id: string, tenant: string, over: Partial<SessionRecord> = {}): SessionRecord {
  return { id, tenant, profile: 'default', sandbox: null, sdkSessionId: null, createdAt: T0, lastActivityAt: T0, turns: 0, ...over };
}

export function sandbox(sandboxId: string): SandboxBinding {
  return { sandboxId, url: `http://127.0.0.2:8000/${sandboxId}`, authToken: `token-${sandboxId}`, profile: 'default', claimedAt: T0 + 1 };
}

/** Binds a sandbox the way the gateway does: under the provisioning lock. */
export async function bind(bindings: SandboxBindings, sessionId: string, sandboxId: string): Promise<void> {
  const token = await bindings.acquireLock(sessionId, 60_000);
  expect(token).not.toBeNull();
  expect(await bindings.setSandbox(sessionId, sandbox(sandboxId), token!)).toBe(true);
  expect(await bindings.releaseLock(sessionId, token!)).toBe(true);
}

export function entry(uuid: string | undefined, text = uuid ?? '', subpath = ''): StoredTranscriptEntry {
  const e: StoredTranscriptEntry['entry'] = { type: 'user', message: { content: text, nested: [1, { a: null }] } };
  if (uuid !== undefined) e.uuid = uuid;
  return { sdkSessionId: 'sdk-1', subpath, entry: e };
}

export function usage(n: number): TokenUsage {
  return { inputTokens: n, outputTokens: n * 2, cacheCreationInputTokens: n * 3, cacheReadInputTokens: n * 4 };
}
