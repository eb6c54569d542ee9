// StandbyRegistry on Redis: per pool, a list of ids (FIFO) and a hash of their data, in the
// pool's slot. LPOP inside the pop script is the claim, atomic across gateway replicas.

import type { StandbyEntry, StandbyRegistry } from '../standby-registry.js';
import type { RedisCommands } from './redis-commands.js';

export class RedisStandbyRegistry implements StandbyRegistry {
  constructor(private readonly redis: RedisCommands) {}

  async addStandby(pool: string, standby: StandbyEntry): Promise<void> {
    const { keys } = this.redis;
    await this.redis.script('berthAddStandby', keys.standbyIds(pool), keys.standbyData(pool), standby.sandboxId, standby.data);
  }

  async popStandby(pool: string): Promise<StandbyEntry | null> {
    const { keys } = this.redis;
    const reply = (await this.redis.script('berthPopStandby', keys.standbyIds(pool), keys.standbyData(pool))) as string[] | null;
    return reply ? { sandboxId: reply[0]!, data: reply[1]! } : null;
  }

  async removeStandby(pool: string, sandboxId: string): Promise<boolean> {
    const { keys } = this.redis;
    return (await this.redis.script('berthRemoveStandby', keys.standbyIds(pool), keys.standbyData(pool), sandboxId)) === 1;
  }

  async listStandbys(pool: string): Promise<StandbyEntry[]> {
    const { keys } = this.redis;
    const flat = (await this.redis.script('berthListStandbys', keys.standbyIds(pool), keys.standbyData(pool))) as string[];
    const out: StandbyEntry[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ sandboxId: flat[i]!, data: flat[i + 1]! });
    return out;
  }
}
