// The standby's pre-started CLI: at boot, before any claim, the agent server starts one Agent SDK
// CLI with the SDK's prewarm() from its pool's start settings alone (BERTH_AGENT_STANDBY_PROFILE),
// so a new session's first turn skips the CLI's start-up. What the CLI is started with holds no
// session: no endpoint, no credential, no tenant name, an empty session store and callbacks that
// reach no session yet. The session's half (folder, model, permission mode, endpoint, credential)
// goes with the claim, which also sends the first prompt (session.ts).
// Neighbours: server.ts starts it and hands it to the bootstrapped session; sdk-options.ts builds
// both halves; prestart.ts keeps a CLI ahead of every later turn, as before.
// It does not decide a fallback: a session whose start settings differ, or that resumes a
// conversation (a claim cannot resume), discards the spare and starts cold. The spare serves one
// session at most and is never parked again.

import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { prewarm, type SpareProcess } from '@anthropic-ai/claude-agent-sdk';
import { agentStartKey, type AgentProfile, type StandbyCliState } from '@berth/protocol';
import type { PermissionCallbacks } from './permissions.js';
import { buildSpareOptions } from './sdk-options.js';
import { BerthSessionStore } from './session-store.js';
import { makeDirs } from './session.js';

export interface StandbySettings {
  dataDir: string;
  /** The pool's start settings (any profile; only agentStartSettings of it are used). */
  start: AgentProfile;
  maxRetries: number | undefined;
  log: (message: string) => void;
  /** Bound on the CLI's start, ms; default 60 000 (the SDK's). A stuck start fails, the session starts cold. */
  initializeTimeoutMs?: number;
  /** The SDK's prewarm(); injectable so the fallback paths are tested without a CLI. */
  prewarm?: typeof prewarm;
}

/** A spare taken by a session: the parked CLI, its store and the controller that kills it. */
export interface TakenSpare {
  spare: SpareProcess;
  store: BerthSessionStore;
  abortController: AbortController;
}

export class StandbyCli {
  /** The store the spare was started with; a session that takes the spare keeps it. Empty until then. */
  readonly store = new BerthSessionStore();
  readonly key: string;
  private readonly abortController = new AbortController();
  private spare: Promise<SpareProcess | null> | null = null;
  private permissionTarget: PermissionCallbacks | null = null;
  #state: StandbyCliState = 'starting';

  constructor(private readonly settings: StandbySettings) {
    this.key = agentStartKey(settings.start);
  }

  get state(): StandbyCliState {
    return this.#state;
  }

  /** Starts the CLI in the background. Failure is never fatal: the session then starts cold. */
  start(): void {
    const start = this.settings.prewarm ?? prewarm;
    this.spare = (async () => {
      const dirs = await makeDirs(this.settings.dataDir);
      const parkDir = path.join(dirs.root, 'park');
      await mkdir(parkDir, { recursive: true, mode: 0o700 });
      const spare = await start({
        options: buildSpareOptions({
          start: this.settings.start,
          dirs,
          parkDir,
          path: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
          maxRetries: this.settings.maxRetries,
          isRoot: process.getuid?.() === 0,
          sessionStore: this.store,
          abortController: this.abortController,
          permissions: this.delegatingPermissions(),
        }),
        initializeTimeoutMs: this.settings.initializeTimeoutMs ?? 60_000,
      });
      if (this.#state !== 'starting') {
        spare.close();
        return null;
      }
      this.#state = 'parked';
      // A parked CLI that dies is not replaced here: its session starts cold (counted in /health).
      void spare.exited.then(() => {
        if (this.#state === 'parked') this.#state = 'failed';
      });
      return spare;
    })().catch((error: unknown) => {
      if (this.#state === 'starting') {
        this.#state = 'failed';
        this.settings.log(`standby pre-start failed, the first turn starts cold: ${error instanceof Error ? error.message : String(error)}`);
      }
      return null;
    });
  }

  /**
   * The spare for a session with `profile`, once: null (and the spare closed) when its start
   * settings differ, when it resumes a conversation, or when the spare failed. `permissions` are
   * the session's callbacks, which the spare's registered callbacks reach from now on.
   */
  take(profile: AgentProfile, resuming: boolean, permissions: PermissionCallbacks | undefined): Promise<TakenSpare | null> | null {
    if (!this.spare || this.#state === 'claimed' || this.#state === 'discarded') return null;
    if (resuming || agentStartKey(profile) !== this.key) {
      this.discard('discarded');
      return null;
    }
    this.permissionTarget = permissions ?? null;
    const pending = this.spare;
    return pending.then((spare) => {
      if (!spare || this.#state !== 'parked') return null;
      this.#state = 'claimed';
      return { spare, store: this.store, abortController: this.abortController };
    });
  }

  /** Marks a taken spare whose claim the CLI refused (the session went cold). */
  refused(): void {
    this.#state = 'failed';
  }

  /** Closes the spare if it was not taken. Idempotent. */
  close(): void {
    if (this.#state === 'claimed') return;
    this.discard(this.#state === 'starting' || this.#state === 'parked' ? 'discarded' : this.#state);
  }

  private discard(state: StandbyCliState): void {
    this.#state = state;
    this.abortController.abort();
    void this.spare?.then((spare) => spare?.close());
  }

  /**
   * The spare registers its permission callbacks at start, before any session exists; these
   * reach the claiming session's. Until then (never, in practice: the CLI asks only during a
   * turn) every tool call is denied. Security control: no policy means no tool runs.
   */
  private delegatingPermissions(): PermissionCallbacks | undefined {
    if (this.settings.start.permissions === undefined) return undefined;
    return {
      canUseTool: async (tool, input, options) => this.permissionTarget ? this.permissionTarget.canUseTool(tool, input, options) : { behavior: 'deny', message: 'no session yet' },
      hooks: {
        PreToolUse: [{
          hooks: [async (input, toolUseId, options) => {
            const target = this.permissionTarget?.hooks.PreToolUse?.[0]?.hooks[0];
            if (target) return target(input, toolUseId, options);
            return { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: 'no session yet' } };
          }],
        }],
      },
    };
  }
}
