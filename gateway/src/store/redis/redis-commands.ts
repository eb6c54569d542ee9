// What every Redis port implementation of one store shares: the one client, the key names, and
// the two ways a call goes out — a plain command (run) or one of the Lua scripts (script), both
// with the readiness wait and the mapping of transport failures to StoreUnavailableError.
// Scripts are defined once per client here, so each port's call is one EVALSHA.

import { runOnRedis, type RedisClient } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import { LISTING_SCRIPTS, type ListingScript } from './redis-listing-scripts.js';
import { STORE_SCRIPTS, type StoreScript } from './redis-scripts.js';
import { USAGE_SCRIPTS, type UsageScript } from './redis-usage-scripts.js';

type ScriptFn = (...args: Array<string | number>) => Promise<unknown>;

export class RedisCommands {
  constructor(
    readonly client: RedisClient,
    readonly keys: RedisKeys,
    private readonly commandTimeoutMs: number,
  ) {
    for (const [name, definition] of Object.entries({ ...STORE_SCRIPTS, ...LISTING_SCRIPTS, ...USAGE_SCRIPTS })) client.defineCommand(name, definition);
  }

  /** Runs one Redis call with the readiness wait and error mapping every method shares. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    return runOnRedis(this.client, this.commandTimeoutMs, call);
  }

  script(name: StoreScript | ListingScript | UsageScript, ...args: Array<string | number>): Promise<unknown> {
    // defineCommand adds the method at run time; the cast names what it added.
    const fn = (this.client as unknown as Record<StoreScript | ListingScript | UsageScript, ScriptFn>)[name];
    return this.run(() => fn.apply(this.client, args));
  }
}
