// StandbyRegistry in process memory: one FIFO list per pool. Enough for one gateway process;
// several replicas need the Redis registry, where a pop is atomic across them.

import type { StandbyEntry, StandbyRegistry } from '../standby-registry.js';

export class MemoryStandbyRegistry implements StandbyRegistry {
  private readonly standbys = new Map<string, StandbyEntry[]>();

  async addStandby(pool: string, standby: StandbyEntry): Promise<void> {
    const list = this.standbys.get(pool) ?? [];
    if (!list.some((s) => s.sandboxId === standby.sandboxId)) list.push({ ...standby });
    this.standbys.set(pool, list);
  }

  async popStandby(pool: string): Promise<StandbyEntry | null> {
    return this.standbys.get(pool)?.shift() ?? null;
  }

  async removeStandby(pool: string, sandboxId: string): Promise<boolean> {
    const list = this.standbys.get(pool) ?? [];
    const index = list.findIndex((s) => s.sandboxId === sandboxId);
    if (index === -1) return false;
    list.splice(index, 1);
    return true;
  }

  async listStandbys(pool: string): Promise<StandbyEntry[]> {
    return (this.standbys.get(pool) ?? []).map((s) => ({ ...s }));
  }
}
