// The idle reaper: releases the sandbox of every session idle longer than the idle timeout.
// It walks the store's activity index (SandboxBindings) (oldest first, a bounded batch per tick), so a tick
// costs what expired, not what exists. The session record and transcript stay: the next message
// re-provisions and resumes. A running stream stamps activity, so a long turn is never reaped.
// Safe on every replica at once: clearSandbox is compare-and-clear, release is idempotent.

import type { SandboxBackend } from '@berth/orchestrator';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics.js';
import type { Store } from '../store/store.js';

export interface ReaperOptions {
  store: Pick<Store, 'sessions' | 'bindings' | 'quotas'>;
  backend: SandboxBackend;
  log: Logger;
  metrics: GatewayMetrics;
  now: () => number;
  idleTimeoutMs: number;
  /** Tick interval in ms. Default 15 000: reaping is late by at most this much. */
  intervalMs?: number;
  /** Sessions handled per tick. Default 100: bounds one tick's work after an outage. */
  batchSize?: number;
  /** Backend sweep (orphans, failed sandboxes) every this many ticks. Default 8 (~2 min). */
  sweepEveryTicks?: number;
}

export class IdleReaper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private ticks = 0;

  constructor(private readonly options: ReaperOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs ?? 15_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass; concurrent calls share it. Returns after the pass finished. */
  tick(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<void> {
    const { store, backend, log, metrics, now } = this.options;
    try {
      const cutoff = now() - this.options.idleTimeoutMs;
      for (const sessionId of await store.bindings.idleSessions(cutoff, this.options.batchSize ?? 100)) {
        const session = await store.sessions.getSession(sessionId);
        if (!session?.sandbox || session.lastActivityAt > cutoff) continue;
        if (await store.bindings.clearSandbox(sessionId, session.sandbox.sandboxId)) {
          await backend.release(sessionId);
          // Its concurrent-session slot frees now, not when the lease would expire.
          await store.quotas.releaseLease(session.tenant, 'sessions', sessionId).catch(() => undefined);
          metrics.sessionsReaped.inc();
          log.info({ session: sessionId, sandbox: session.sandbox.sandboxId }, 'idle session reaped');
        }
      }
      if (++this.ticks % (this.options.sweepEveryTicks ?? 8) === 0) {
        const report = await backend.sweep(async (sessionId) => (await store.sessions.getSession(sessionId))?.sandbox != null);
        if (report.removed.length > 0) log.info({ removed: report.removed.length }, 'sweep removed orphaned sandboxes');
      }
    } catch (error) {
      log.warn({ err: error }, 'reaper pass failed; retrying next tick');
    }
  }
}
