// One bootstrapped session: the tenant's options, the session store, the pre-started CLI, the
// SDK session id that follow-up turns resume, and the turns themselves. A turn runs detached:
// startTurn() returns its TurnLog at once and the turn runs to its end whatever its readers do.
// Only interrupt(), the profile's limits (turnTimeoutS, frame bounds, maxTurns) and close()
// stop a turn early, and each ends it with exactly one terminal frame. It keeps the running
// and the last finished turn's logs (re-attach), nothing older.
// Neighbours: server.ts (HTTP), turn.ts (one SDK run), turn-log.ts, approvals.ts, prestart.ts.
// It does not parse HTTP or validate the bootstrap; server.ts did that.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { query, type Query } from '@anthropic-ai/claude-agent-sdk';
import { AGENT_PROFILE_DEFAULTS, type ApprovalAnswer, type BootstrapRequest } from '@berth/protocol';
import { Approvals, type AnswerOutcome } from './approvals.js';
import { permissionCallbacks, type PermissionCallbacks } from './permissions.js';
import { Prestarter } from './prestart.js';
import { buildSdkOptions, buildSessionHalf, type AgentDirs, type SdkInputs } from './sdk-options.js';
import { projectKeyFor } from './project-key.js';
import { BerthSessionStore } from './session-store.js';
import type { StandbyCli, TakenSpare } from './standby.js';
import { runTurn, type StopRequest, type TurnResult } from './turn.js';
import { TurnLog, type TurnLogLimits } from './turn-log.js';

export interface SessionSettings {
  dataDir: string;
  prestart: boolean;
  maxRetries: number | undefined;
  /** Bytes of frame data kept per turn for re-attach (TurnLogLimits.maxBufferedBytes). */
  maxBufferedBytes: number;
  log: (message: string) => void;
}

/**
 * After interrupt() asked the CLI to stop, how long the turn may take to wind down before the
 * CLI is killed (abort). The CLI answers an interrupt in well under a second; a CLI stuck in a
 * tool that ignores it must still not hold the session.
 */
const INTERRUPT_GRACE_MS = 10_000;

export async function makeDirs(root: string): Promise<AgentDirs> {
  const dirs: AgentDirs = { root, home: path.join(root, 'home'), config: path.join(root, 'config'), tmp: path.join(root, 'tmp'), work: path.join(root, 'work') };
  for (const dir of [dirs.home, dirs.config, dirs.tmp, dirs.work]) await mkdir(dir, { recursive: true, mode: 0o700 });
  return dirs;
}

interface RunningTurn {
  log: TurnLog;
  /** The Query running the turn now (warm, cold, or the cold fallback); null before it starts. */
  query: Query | null;
  abortController: AbortController | null;
  stop: StopRequest | null;
  finished: Promise<void>;
}

export class AgentSession {
  readonly sessionId: string;
  private sdkSessionId: string | null;
  private readonly store: BerthSessionStore;
  private readonly prestarter: Prestarter;
  private readonly inputs: SdkInputs;
  private readonly limits: TurnLogLimits;
  private readonly approvals: Approvals;
  private readonly permissions: PermissionCallbacks | undefined;
  /** The standby's pre-started CLI for the first turn; null once taken, or when there is none. */
  private spare: Promise<TakenSpare | null> | null;
  private readonly standby: StandbyCli | undefined;
  /** SHA-256 of the sandbox's egress key when this session uses it (the bootstrap response names it); else null. */
  readonly egressKeySha256: string | null;
  private running: RunningTurn | null = null;
  private last: TurnLog | null = null;
  private closed = false;

  constructor(bootstrap: BootstrapRequest, dirs: AgentDirs, private readonly settings: SessionSettings, standby?: StandbyCli) {
    const { profile } = bootstrap;
    this.sessionId = bootstrap.sessionId;
    this.sdkSessionId = bootstrap.resumeSdkSessionId ?? null;
    // The tenant is the SessionStore's projectKey, as the SDK asks of multi-tenant deployments.
    const projectKey = projectKeyFor(bootstrap.tenant);
    this.limits = {
      maxFrames: profile.maxFramesPerTurn ?? AGENT_PROFILE_DEFAULTS.maxFramesPerTurn,
      maxFrameBytes: profile.maxFrameBytes ?? AGENT_PROFILE_DEFAULTS.maxFrameBytes,
      maxBufferedBytes: settings.maxBufferedBytes,
    };
    this.approvals = new Approvals((event, data) => this.running?.log.append(event, data) === 'ok', profile.approvalTimeoutS ?? AGENT_PROFILE_DEFAULTS.approvalTimeoutS);
    // The callbacks are built once: a pre-started CLI registers them before its turn exists,
    // and they reach whichever turn runs when the CLI asks.
    this.permissions = profile.permissions ? permissionCallbacks(profile.permissions, (tool, input, signal) => this.approvals.ask(tool, input, signal)) : undefined;
    this.inputs = {
      profile,
      model: bootstrap.model,
      egress: bootstrap.egress,
      dirs,
      path: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      maxRetries: settings.maxRetries,
      isRoot: process.getuid?.() === 0,
      projectKey,
    };
    // The standby's CLI serves the first turn when it was started with this profile's start
    // settings and the conversation is new; it then keeps the store it was started with (empty).
    // The session's half is applied to it now, while the first message is on its way.
    this.standby = standby;
    // Reported whether or not the spare is taken: bound but unused, the key is in no process.
    this.egressKeySha256 = standby?.egressKeyFor(bootstrap) ?? null;
    const half = buildSessionHalf({ ...this.inputs, permissions: this.permissions, ownKey: this.egressKeySha256 !== null });
    this.spare = standby?.take(profile, this.sdkSessionId !== null, this.permissions, half) ?? null;
    this.store = this.spare ? standby!.store : new BerthSessionStore(bootstrap.transcript ?? [], projectKey);
    this.prestarter = new Prestarter(settings.prestart, (resume, abortController) => this.options(resume, abortController), settings.log);
    if (!this.spare) this.prestarter.warm(this.sdkSessionId ?? undefined);
    // No spare after all (it failed to start or died): pre-start after bootstrap, as without one.
    else void this.spare.then((taken) => (taken || this.closed ? undefined : this.prestarter.warm(undefined)));
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** The running turn's number, or null. */
  get turn(): number | null {
    return this.running?.log.turn ?? null;
  }

  /** The last finished turn's number, or null. */
  get lastTurn(): number | null {
    return this.last?.turn ?? null;
  }

  /** The log of `turn` if it is the running or the last finished one. */
  turnLog(turn: number): TurnLog | null {
    if (this.running?.log.turn === turn) return this.running.log;
    if (this.last?.turn === turn) return this.last;
    return null;
  }

  /**
   * Starts turn `turn` detached and returns its log at once. Must not be called while busy.
   * The returned promise-free API is deliberate: no HTTP request owns the turn.
   */
  startTurn(turn: number, prompt: string): TurnLog {
    const log = new TurnLog(turn, this.limits);
    let resolveFinished!: () => void;
    const slot: RunningTurn = { log, query: null, abortController: null, stop: null, finished: new Promise<void>((r) => (resolveFinished = r)) };
    this.running = slot;
    const timeoutS = this.inputs.profile.turnTimeoutS ?? AGENT_PROFILE_DEFAULTS.turnTimeoutS;
    const timer = setTimeout(() => this.stop(slot, 'error:turn_timeout'), timeoutS * 1000);
    timer.unref();
    void this.run(slot, prompt)
      .catch((error: unknown): TurnResult | null => {
        // runTurn does not throw; this is a bug's last line of defence: the turn still ends with one terminal frame.
        this.settings.log(`turn ${turn} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`);
        return null;
      })
      .then((result) => {
        clearTimeout(timer);
        if (result?.sdkSessionId) this.sdkSessionId = result.sdkSessionId;
        // Idle and the terminal frame in the same tick: a reader that saw the terminal frame
        // finds the session idle, so its next turn is never refused as busy.
        this.approvals.denyAll('the turn ended', false);
        this.last = log;
        this.running = null;
        this.store.detach();
        log.end(result?.terminal.event ?? 'error', result?.terminal.data ?? { message: 'the turn failed unexpectedly', code: 'turn_failed', stopReason: 'error:turn_failed', sdkSessionId: this.sdkSessionId });
        if (result) this.settings.log(`turn ${turn}: ${result.stopReason}${result.firstAssistantMs != null ? `; first assistant message after ${Math.round(result.firstAssistantMs)} ms` : ''}`);
        resolveFinished();
        // The next turn resumes this SDK session; start its CLI now so it skips start-up too.
        if (!this.closed) this.prestarter.warm(this.sdkSessionId ?? undefined);
      });
    return log;
  }

  /** Interrupts the running turn (it ends with stopReason `interrupted`); false when idle. */
  interrupt(): boolean {
    const slot = this.running;
    if (!slot) return false;
    this.stop(slot, 'interrupted');
    return true;
  }

  answerApproval(requestId: string, answer: ApprovalAnswer): AnswerOutcome {
    return this.approvals.answer(requestId, answer);
  }

  /** Aborts a running turn, stops the warm CLI and waits (bounded by the caller) for the turn to end. */
  async close(): Promise<void> {
    this.closed = true;
    this.standby?.close();
    void this.spare?.then((taken) => taken?.close());
    const slot = this.running;
    if (slot) this.stop(slot, 'error:turn_aborted', true);
    await Promise.all([this.prestarter.close(), slot?.finished]);
  }

  private async run(slot: RunningTurn, prompt: string): Promise<TurnResult> {
    const resume = this.sdkSessionId ?? undefined;
    const cold = (): Query => {
      slot.abortController = new AbortController();
      return query({ prompt, options: this.options(resume, slot.abortController) });
    };
    const spare = await this.takeSpare();
    const warm = spare ? null : await this.prestarter.take(resume);
    let first: Query;
    if (spare) {
      // Its session half is in force (take() resolved only then): the prompt goes now.
      slot.abortController = spare.abortController;
      spare.send(prompt);
      first = spare.query;
    } else if (warm) {
      slot.abortController = warm.abortController;
      first = warm.warm.query(prompt);
    } else {
      first = cold();
    }
    this.store.attach((batch) => {
      const outcome = slot.log.append('transcript', batch);
      if (outcome === 'frame_limit') this.stop(slot, 'error:frame_limit');
      return outcome === 'ok';
    });
    // A stop that came while the CLI was being taken (shutdown, an early interrupt) applies now.
    if (slot.stop !== null) this.stopQuery(slot, slot.stop === 'error:turn_aborted');
    return runTurn({
      query: first,
      fallback: warm || spare ? cold : undefined,
      frames: slot.log,
      onQuery: (q) => {
        slot.query = q;
        if (slot.stop !== null) this.stopQuery(slot, slot.stop === 'error:turn_aborted');
      },
      onFrameLimit: () => this.stop(slot, 'error:frame_limit'),
      stopRequested: () => slot.stop,
      knownSessionId: this.sdkSessionId,
      log: this.settings.log,
    });
  }

  /**
   * Records why the turn stops (the first reason wins) and stops it: the SDK's interrupt(), which
   * ends the turn cleanly (the CLI writes its transcript and a result), or, when `hard` or when the
   * interrupt does not end the turn within INTERRUPT_GRACE_MS, the abort controller, which kills
   * the CLI. Pending approvals are denied so no tool call waits for an answer.
   */
  private stop(slot: RunningTurn, reason: StopRequest, hard = false): void {
    if (slot.log.finished) return;
    const first = slot.stop === null;
    if (first) slot.stop = reason;
    this.approvals.denyAll(reason === 'interrupted' ? 'the turn was interrupted' : 'the turn is stopping', true);
    if (first || hard) this.stopQuery(slot, hard);
  }

  private stopQuery(slot: RunningTurn, hard: boolean): void {
    if (hard || !slot.query) {
      // No query yet: the abort controller (if any) keeps a CLI from starting; run() re-checks.
      if (hard) slot.abortController?.abort();
      return;
    }
    const q = slot.query;
    q.interrupt().catch((error: unknown) => {
      // The CLI is gone or not listening: killing it ends the turn the same way.
      this.settings.log(`interrupt failed, aborting the CLI: ${error instanceof Error ? error.message : String(error)}`);
      if (this.running === slot) slot.abortController?.abort();
    });
    const grace = setTimeout(() => {
      if (this.running !== slot || slot.query !== q) return;
      this.settings.log(`the CLI did not end turn ${slot.log.turn} within ${INTERRUPT_GRACE_MS} ms of the interrupt; killing it`);
      slot.abortController?.abort();
    }, INTERRUPT_GRACE_MS);
    grace.unref();
    void slot.finished.then(() => clearTimeout(grace));
  }

  /** The spare for the first turn, once; null for every later turn or when there is none. */
  private async takeSpare(): Promise<TakenSpare | null> {
    const pending = this.spare;
    this.spare = null;
    return pending ? await pending : null;
  }

  private options(resume: string | undefined, abortController: AbortController) {
    return buildSdkOptions({ ...this.inputs, sessionStore: this.store, abortController, resume, permissions: this.permissions });
  }
}
