// The standby's pre-started CLI: at boot, before any claim, the agent server starts one Agent SDK
// CLI with the SDK's prewarm() from its pool's start settings alone (BERTH_AGENT_STANDBY_PROFILE)
// and at once claims it into the agent's work folder with a held prompt (held-prompt.ts), so a
// new session's first turn skips both the CLI's start-up and its claim (relocation, session
// registration, folder scan: ~0.1–0.2 s of CLI work, plus a round trip). What the CLI holds
// before its session is tenant-independent: the work folder's path, no tenant name, an empty
// session store and callbacks that reach no session yet; and, when the sandbox knows the egress
// gateway (BERTH_EGRESS_URL), the endpoint with the sandbox's own egress key, which the egress
// gateway refuses until the gateway binds it to a session at claim (protocol/egress-key.ts).
// The session's half (model, permission mode, and the endpoint and credential unless the key
// serves) is applied at bootstrap (take()); the first prompt is written only once all of it is
// in force (session.ts). With the key, the claim applies no environment to the CLI: that
// overlay alone cost the first turn ~17–20 ms of the CLI's work.
// Neighbours: server.ts starts it and hands it to the bootstrapped session; sdk-options.ts builds
// both halves; prestart.ts keeps a CLI ahead of every later turn, as before.
// It does not decide a fallback: a session whose start settings differ, or that resumes a
// conversation (a claim cannot resume), discards the spare and starts cold. The spare serves one
// session at most and is never parked again.

import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { prewarm, type Query, type SpareProcess } from '@anthropic-ai/claude-agent-sdk';
import { agentStartKey, egressEndpoint, egressKeySha256, newEgressKey, sameEgressEndpoint, type AgentProfile, type EgressSettings, type ModelEndpoint, type StandbyCliState } from '@berth/protocol';
import type { PermissionCallbacks } from './permissions.js';
import { HeldPrompt } from './held-prompt.js';
import { buildSessionEnv, buildSpareOptions, type SessionHalf } from './sdk-options.js';
import { BerthSessionStore } from './session-store.js';
import { makeDirs } from './session.js';

export interface StandbySettings {
  dataDir: string;
  /** The pool's start settings (any profile; only agentStartSettings of it are used). */
  start: AgentProfile;
  /** The egress gateway's URL (BERTH_EGRESS_URL); with it the CLI starts with the endpoint under the sandbox's own egress key. */
  egressUrl?: string | undefined;
  maxRetries: number | undefined;
  log: (message: string) => void;
  /** Bound on the CLI's start, ms; default 60 000 (the SDK's). A stuck start fails, the session starts cold. */
  initializeTimeoutMs?: number;
  /** The SDK's prewarm(); injectable so the fallback paths are tested without a CLI. */
  prewarm?: typeof prewarm;
}

/** A spare taken by a session, its session half in force: the claimed CLI, its store and the controller that kills it. */
export interface TakenSpare {
  /** The CLI's Query; its first turn runs the prompt given to send(). */
  query: Query;
  /** Writes the first prompt (once). */
  send(prompt: string): void;
  /** Discards the CLI when no turn ran on it. */
  close(): void;
  store: BerthSessionStore;
  abortController: AbortController;
}

/** The standby's CLI once claimed into the work folder, waiting for its first prompt. */
interface Parked {
  spare: SpareProcess;
  query: Query;
  held: HeldPrompt;
  /** Ends the held input and the CLI (no turn ran on it). */
  close(): void;
}

export class StandbyCli {
  /** The store the spare was started with; a session that takes the spare keeps it. Empty until then. */
  readonly store = new BerthSessionStore();
  readonly key: string;
  /** The endpoint the CLI starts with, under the sandbox's own egress key; null without BERTH_EGRESS_URL. */
  private readonly ownEndpoint: { model: ModelEndpoint; egress: EgressSettings } | null;
  /** That endpoint as the CLI's start environment ({} without one). */
  private readonly ownEnv: Record<string, string>;
  private readonly abortController = new AbortController();
  private spare: Promise<Parked | null> | null = null;
  private permissionTarget: PermissionCallbacks | null = null;
  #state: StandbyCliState = 'starting';

  constructor(private readonly settings: StandbySettings) {
    this.key = agentStartKey(settings.start);
    // Drawn here, in the sandbox, before any claim; only its hash ever leaves (bootstrap response).
    this.ownEndpoint = settings.egressUrl ? egressEndpoint(settings.egressUrl, newEgressKey()) : null;
    this.ownEnv = this.ownEndpoint ? buildSessionEnv(this.ownEndpoint) : {};
  }

  /**
   * The SHA-256 of the sandbox's egress key when the CLI was started with `endpoint` under it
   * (same URLs, credentials aside): the session then uses the key, which the gateway binds to it,
   * and take() applies no environment. Null: the session's own credential is applied instead.
   */
  egressKeyFor(endpoint: { model: ModelEndpoint; egress?: EgressSettings | undefined }): string | null {
    if (!this.ownEndpoint || !sameEgressEndpoint(this.ownEndpoint, endpoint)) return null;
    return egressKeySha256(this.ownEndpoint.model.apiKey);
  }

  get state(): StandbyCliState {
    return this.#state;
  }

  /** Starts and claims the CLI in the background. Failure is never fatal: the session then starts cold. */
  start(): void {
    const start = this.settings.prewarm ?? prewarm;
    this.spare = (async (): Promise<Parked | null> => {
      const dirs = await makeDirs(this.settings.dataDir);
      const parkDir = path.join(dirs.root, 'park');
      await mkdir(parkDir, { recursive: true, mode: 0o700 });
      const spare = await start({
        options: buildSpareOptions({
          start: this.settings.start,
          endpointEnv: this.ownEnv,
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
      // Claimed now, into the work folder every session of this sandbox uses (a path, nothing of
      // a tenant): the claim's relocation and session registration leave the first turn's path.
      // No prompt is written until a session's half is in force (take()).
      const held = new HeldPrompt();
      const query = spare.claim({ prompt: held.messages(), options: { cwd: dirs.work } });
      const close = (): void => {
        held.cancel();
        spare.close();
      };
      try {
        await spare.claimed;
      } catch (error) {
        close();
        throw error;
      }
      // Builds, before any session, what the CLI otherwise builds on its first prompt and then
      // keeps (tool schemas, system prompt, memory files): ~20 % of the first turn's CPU, which a
      // burst of first turns pays on shared cores. 'summary' answers locally (no model call, no
      // credential needed); a failure only leaves that work to the first turn.
      await query.getContextUsage({ detail: 'summary' }).catch((error: unknown) => {
        this.settings.log(`standby context warm-up failed, the first turn builds it: ${error instanceof Error ? error.message : String(error)}`);
      });
      if (this.#state !== 'starting') {
        close();
        return null;
      }
      this.#state = 'parked';
      // A parked CLI that dies is not replaced here: its session starts cold (counted in /health).
      void spare.exited.then(() => {
        if (this.#state === 'parked') this.#state = 'failed';
      });
      return { spare, query, held, close };
    })().catch((error: unknown) => {
      if (this.#state === 'starting') {
        this.#state = 'failed';
        this.settings.log(`standby pre-start failed, the first turn starts cold: ${error instanceof Error ? error.message : String(error)}`);
      }
      return null;
    });
  }

  /**
   * The spare for a session with `profile`, once, with the session's half applied to its CLI
   * (`half`: credential and endpoint as its env layer, model, permission mode): null (and the
   * spare closed) when its start settings differ, when it resumes a conversation, when the spare
   * failed, or when the CLI refused any part of the half; no prompt was written then, so the
   * session starts cold and nothing ran without its settings. `permissions` are the session's
   * callbacks, which the spare's registered callbacks reach from now on. Called at bootstrap, so
   * the half is applied while the caller's first message is still on its way.
   */
  take(profile: AgentProfile, resuming: boolean, permissions: PermissionCallbacks | undefined, half: SessionHalf): Promise<TakenSpare | null> | null {
    if (!this.spare || this.#state === 'claimed' || this.#state === 'discarded') return null;
    if (resuming || agentStartKey(profile) !== this.key) {
      this.discard('discarded');
      return null;
    }
    this.permissionTarget = permissions ?? null;
    const pending = this.spare;
    return pending.then(async (parked) => {
      if (!parked || this.#state !== 'parked') return null;
      this.#state = 'claimed';
      const { query, held, close } = parked;
      try {
        // Sent together, awaited together: the prompt waits for every one of them (fail closed).
        // No env when the CLI's own (the egress key's) serves the session: nothing to apply.
        await Promise.all([
          half.env !== undefined ? query.applyFlagSettings({ env: { ...blanked(this.ownEnv), ...half.env } }) : undefined,
          half.permissionMode !== undefined ? query.setPermissionMode(half.permissionMode) : undefined,
          half.model !== undefined ? query.setModel(half.model) : undefined,
        ]);
      } catch (error) {
        this.#state = 'failed';
        this.settings.log(`the standby's CLI refused the session's settings, starting cold: ${error instanceof Error ? error.message : String(error)}`);
        close();
        return null;
      }
      return { query, send: (prompt: string) => held.send(prompt), close, store: this.store, abortController: this.abortController };
    });
  }

  /** Closes the spare if it was not taken. Idempotent. */
  close(): void {
    if (this.#state === 'claimed') return;
    this.discard(this.#state === 'starting' || this.#state === 'parked' ? 'discarded' : this.#state);
  }

  private discard(state: StandbyCliState): void {
    this.#state = state;
    this.abortController.abort();
    void this.spare?.then((parked) => {
      parked?.close();
    });
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

/**
 * The start env's endpoint variables emptied: a session on another endpoint must not inherit the
 * key's proxy (an empty proxy variable is no proxy, to the CLI and to curl alike).
 */
function blanked(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(env).map((name) => [name, '']));
}
