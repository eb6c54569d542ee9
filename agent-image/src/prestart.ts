// Keeps one CLI process started ahead of the next turn (the SDK's startup()), so a turn skips
// the CLI's ~0.3 s start-up: after bootstrap for the first turn, after every turn for the next
// (resuming the same SDK session). Neighbours: session.ts takes the warm process per turn.
// It does not decide options: the session passes a builder, and a warm process whose resume id
// no longer matches is discarded. Failure is never fatal: take() returns null and the turn falls
// back to query().

import { startup, type Options, type WarmQuery } from '@anthropic-ai/claude-agent-sdk';

export interface WarmProcess {
  warm: WarmQuery;
  abortController: AbortController;
  resume: string | undefined;
}

export type OptionsBuilder = (resume: string | undefined, abortController: AbortController) => Options;

export class Prestarter {
  private pending: { resume: string | undefined; abortController: AbortController; ready: Promise<WarmProcess | null> } | null = null;
  private closed = false;

  constructor(
    private readonly enabled: boolean,
    private readonly build: OptionsBuilder,
    private readonly log: (message: string) => void,
    /** Bound on the CLI's initialize; default 60 000 ms, the SDK's own. A stuck start then falls back. */
    private readonly initializeTimeoutMs = 60_000,
    /** The SDK's startup(); injectable so the fallback paths are tested without a CLI. */
    private readonly start: typeof startup = startup,
  ) {}

  /** Starts a CLI for the next turn in the background, replacing any warm one. */
  warm(resume: string | undefined): void {
    if (!this.enabled || this.closed) return;
    void this.discard();
    const abortController = new AbortController();
    const ready = this.start({ options: this.build(resume, abortController), initializeTimeoutMs: this.initializeTimeoutMs }).then(
      (warm): WarmProcess => ({ warm, abortController, resume }),
      (error: unknown) => {
        if (!abortController.signal.aborted) this.log(`pre-start failed, the next turn starts cold: ${error instanceof Error ? error.message : String(error)}`);
        return null;
      },
    );
    this.pending = { resume, abortController, ready };
  }

  /**
   * The warm process for a turn resuming `resume`, awaiting a start still under way; null when
   * pre-start is off, failed, or was started for another resume id (then it is closed).
   */
  async take(resume: string | undefined): Promise<WarmProcess | null> {
    const pending = this.pending;
    this.pending = null;
    if (!pending) return null;
    const warm = await pending.ready;
    if (!warm) return null;
    if (warm.resume !== resume) {
      close(warm);
      return null;
    }
    return warm;
  }

  /** Puts back a warm process a turn took but never used (its caller left before it began). */
  restore(warm: WarmProcess): void {
    if (this.closed || this.pending) return close(warm);
    this.pending = { resume: warm.resume, abortController: warm.abortController, ready: Promise.resolve(warm) };
  }

  /** Stops any warm or starting process; no pre-start happens afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    await this.discard();
  }

  private async discard(): Promise<void> {
    const pending = this.pending;
    this.pending = null;
    if (!pending) return;
    pending.abortController.abort();
    const warm = await pending.ready;
    if (warm) close(warm);
  }
}

function close(warm: WarmProcess): void {
  warm.abortController.abort();
  try {
    warm.warm.close();
  } catch {
    // Already closed.
  }
}
