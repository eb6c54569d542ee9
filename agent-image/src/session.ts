// One bootstrapped session: the tenant's options, the session store, the pre-started CLI and the
// SDK session id that follow-up turns resume. Runs one turn at a time (the server checks `busy`
// before calling turn()). Neighbours: server.ts (HTTP), turn.ts (frames), prestart.ts.
// It does not parse HTTP or validate the bootstrap; server.ts did that.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { query, type Query } from '@anthropic-ai/claude-agent-sdk';
import type { BootstrapRequest } from '@berth/protocol';
import type { FrameWriter } from './frames.js';
import { Prestarter } from './prestart.js';
import { buildSdkOptions, type AgentDirs, type SdkInputs } from './sdk-options.js';
import { BerthSessionStore } from './session-store.js';
import { runTurn, type TurnResult } from './turn.js';

export interface SessionSettings {
  dataDir: string;
  prestart: boolean;
  maxRetries: number | undefined;
  log: (message: string) => void;
}

export async function makeDirs(root: string): Promise<AgentDirs> {
  const dirs: AgentDirs = { root, home: path.join(root, 'home'), config: path.join(root, 'config'), tmp: path.join(root, 'tmp'), work: path.join(root, 'work') };
  for (const dir of [dirs.home, dirs.config, dirs.tmp, dirs.work]) await mkdir(dir, { recursive: true, mode: 0o700 });
  return dirs;
}

export class AgentSession {
  readonly sessionId: string;
  private sdkSessionId: string | null;
  private readonly store: BerthSessionStore;
  private readonly prestarter: Prestarter;
  private readonly inputs: SdkInputs;
  private current: { abortController: AbortController | null; finished: Promise<unknown> } | null = null;
  private closed = false;

  constructor(bootstrap: BootstrapRequest, dirs: AgentDirs, private readonly settings: SessionSettings) {
    this.sessionId = bootstrap.sessionId;
    this.sdkSessionId = bootstrap.resumeSdkSessionId ?? null;
    this.store = new BerthSessionStore(bootstrap.transcript ?? []);
    this.inputs = {
      profile: bootstrap.profile,
      model: bootstrap.model,
      egress: bootstrap.egress,
      dirs,
      path: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      maxRetries: settings.maxRetries,
      isRoot: process.getuid?.() === 0,
    };
    this.prestarter = new Prestarter(settings.prestart, (resume, abortController) => this.options(resume, abortController), settings.log);
    this.prestarter.warm(this.sdkSessionId ?? undefined);
  }

  get busy(): boolean {
    return this.current !== null;
  }

  /**
   * Runs one turn onto `frames`. `callerGone` aborts it (caller disconnect); the CLI process is
   * stopped by the SDK on abort. Must not be called while busy.
   */
  async turn(prompt: string, frames: FrameWriter, callerGone: AbortSignal): Promise<TurnResult | null> {
    let resolveFinished!: () => void;
    const slot = { abortController: null as AbortController | null, finished: new Promise<void>((r) => (resolveFinished = r)) };
    this.current = slot;
    // Whichever CLI runs the turn (warm, cold, or the cold fallback) is the one a disconnect stops.
    const onGone = (): void => slot.abortController?.abort();
    callerGone.addEventListener('abort', onGone, { once: true });
    try {
      const resume = this.sdkSessionId ?? undefined;
      const warm = await this.prestarter.take(resume);
      if (callerGone.aborted || this.closed) {
        // Nobody to stream to: keep the warm process for the next turn.
        if (warm) this.prestarter.restore(warm);
        return null;
      }
      const cold = (): Query => {
        slot.abortController = new AbortController();
        return query({ prompt, options: this.options(resume, slot.abortController) });
      };
      let first: Query;
      if (warm) {
        slot.abortController = warm.abortController;
        first = warm.warm.query(prompt);
      } else {
        first = cold();
      }
      this.store.attach((batch) => frames.transcript(batch));
      try {
        const result = await runTurn({
          query: first,
          fallback: warm ? cold : undefined,
          frames,
          aborted: () => callerGone.aborted || this.closed,
          knownSessionId: this.sdkSessionId,
          log: this.settings.log,
        });
        if (result.sdkSessionId) this.sdkSessionId = result.sdkSessionId;
        return result;
      } finally {
        this.store.detach();
      }
    } finally {
      callerGone.removeEventListener('abort', onGone);
      this.current = null;
      resolveFinished();
      // The next turn resumes this SDK session; start its CLI now so it skips start-up too.
      if (!this.closed) this.prestarter.warm(this.sdkSessionId ?? undefined);
    }
  }

  /** Aborts a running turn, stops the warm CLI and waits (bounded by the caller) for the turn to end. */
  async close(): Promise<void> {
    this.closed = true;
    const current = this.current;
    current?.abortController?.abort();
    await Promise.all([this.prestarter.close(), current?.finished]);
  }

  private options(resume: string | undefined, abortController: AbortController) {
    return buildSdkOptions({ ...this.inputs, sessionStore: this.store, abortController, resume });
  }
}
