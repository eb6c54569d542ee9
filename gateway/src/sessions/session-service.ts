// SessionService: the gateway's session lifecycle over the store's session ports and the SandboxBackend.
// lookup() resolves ownership, create() makes the record once a first message is admitted, ensureSandbox() binds
// a sandbox under the provisioning lock and bootstraps it (handing over the stored transcript
// when the conversation began elsewhere), dropSandbox() forgets a sandbox that is gone.
// It does not speak HTTP to callers; the ingress routes and the SSE relay do.

import { BerthError } from '@berth/protocol';
import { bootstrapSandbox, type BootstrapOutcome, type SandboxBackend } from '@berth/orchestrator';
import type { Logger } from '../log.js';
import type { SandboxBinding, SessionRecord } from '../store/session-records.js';
import type { Store } from '../store/store.js';
import type { EventLog } from '../store/event-log.js';
import type { TurnLedger } from '../store/turn-ledger.js';
import type { Tenant } from '../tenants/tenant.js';
import type { SandboxAccess } from './sandbox-access.js';
import type { SessionEventSink } from '../session-events.js';

export interface SessionServiceOptions {
  store: Pick<Store, 'sessions' | 'bindings' | 'transcripts'>;
  backend: SandboxBackend;
  access: SandboxAccess;
  log: Logger;
  now?: () => number;
  /**
   * Provisioning lock lifetime in ms. Default 120 000: comfortably above a cold start plus
   * bootstrap on a slow cluster. Too short and a slow claimer loses its lock mid-claim (its
   * setSandbox is then refused, and the claim is wasted); too long and a crashed replica's
   * lock blocks the session that long.
   */
  lockTtlMs?: number;
  /** How long a request waits for another replica's provisioning, in ms. Default 120 000. */
  provisionWaitMs?: number;
  /** The session's event log and turn state, removed with the session. */
  events?: Pick<EventLog, 'remove'>;
  ledger?: Pick<TurnLedger, 'remove'>;
  /** Sends the claim-time bootstrap. Default: bootstrapSandbox over HTTP (tests drive it without a sandbox). */
  bootstrap?: (...args: Parameters<typeof bootstrapSandbox>) => Promise<BootstrapOutcome | void>;
  /** Told `terminated` when a session is deleted. Default: nobody. */
  sessionEvents?: SessionEventSink;
}

export class SessionService {
  private readonly now: () => number;
  private readonly lockTtlMs: number;
  private readonly provisionWaitMs: number;
  private readonly bootstrap: NonNullable<SessionServiceOptions['bootstrap']>;

  constructor(private readonly options: SessionServiceOptions) {
    this.now = options.now ?? Date.now;
    this.lockTtlMs = options.lockTtlMs ?? 120_000;
    this.provisionWaitMs = options.provisionWaitMs ?? 120_000;
    this.bootstrap = options.bootstrap ?? bootstrapSandbox;
  }

  /**
   * The caller's session, or null when none exists yet; stamps its activity (one round trip).
   * Throws forbidden for another tenant's id.
   */
  async lookup(tenant: Tenant, sessionId: string): Promise<SessionRecord | null> {
    const owned = await this.options.store.sessions.checkAndTouch(sessionId, tenant.name, this.now());
    if (owned.kind === 'forbidden') throw forbidden();
    return owned.kind === 'owned' ? owned.session : null;
  }

  /**
   * Creates the caller's session (its first message was admitted). Set-if-absent: a concurrent
   * creator of the same id for this tenant gets the existing record; another tenant's is forbidden.
   */
  async create(tenant: Tenant, sessionId: string): Promise<SessionRecord> {
    const now = this.now();
    const created = await this.options.store.sessions.createSession({
      id: sessionId,
      tenant: tenant.name,
      profile: tenant.sandboxProfile,
      sandbox: null,
      sdkSessionId: null,
      createdAt: now,
      lastActivityAt: now,
      turns: 0,
    });
    if (created.kind === 'forbidden') throw forbidden();
    return created.session;
  }

  /** The session's sandbox, claiming and bootstrapping one when none is bound. */
  async ensureSandbox(session: SessionRecord, tenant: Tenant): Promise<SandboxBinding> {
    if (session.sandbox) return session.sandbox;
    const { store } = this.options;
    const deadline = this.now() + this.provisionWaitMs;
    for (let attempt = 0; ; attempt++) {
      const token = await store.bindings.acquireLock(session.id, this.lockTtlMs);
      if (token) {
        try {
          return await this.provision(session.id, tenant, token);
        } finally {
          await store.bindings.releaseLock(session.id, token).catch(() => undefined);
        }
      }
      // Another request (maybe on another replica) is provisioning: wait for its binding.
      const current = await store.sessions.getSession(session.id);
      if (!current) throw new BerthError('session_not_found', 'the session was deleted while its sandbox was being provisioned');
      if (current.sandbox) return current.sandbox;
      if (this.now() > deadline) throw new BerthError('backend_unavailable', 'timed out waiting for the session sandbox', { retryAfterS: 5 });
      await sleep(Math.min(50 * 2 ** Math.min(attempt, 4), 500));
    }
  }

  private async provision(sessionId: string, tenant: Tenant, lockToken: string): Promise<SandboxBinding> {
    const { store, backend, access, log } = this.options;
    // Re-read under the lock: the previous holder may have bound a sandbox just before releasing.
    const session = await store.sessions.getSession(sessionId);
    if (!session) throw new BerthError('session_not_found', 'the session was deleted');
    if (session.sandbox) return session.sandbox;
    const { outcome, ...claimed } = await backend.claim(sessionId, session.profile);
    try {
      const grant = await access.grant({ tenant: tenant.name, sessionId, sandboxId: claimed.sandboxId });
      const resuming = session.sdkSessionId !== null;
      const booted = await this.bootstrap(claimed, {
        sessionId,
        tenant: tenant.name,
        profile: tenant.agent,
        model: grant.model,
        ...(grant.egress ? { egress: grant.egress } : {}),
        ...(resuming ? { resumeSdkSessionId: session.sdkSessionId!, transcript: await store.transcripts.loadTranscript(sessionId) } : {}),
      });
      // The sandbox's own egress key, when its CLI uses it: bound with the sandbox, so the egress
      // gateway honours it from here until the binding goes (protocol/egress-key.ts).
      const binding: SandboxBinding = booted?.egressKeySha256 ? { ...claimed, egressKeySha256: booted.egressKeySha256 } : claimed;
      if (!(await store.bindings.setSandbox(sessionId, binding, lockToken))) {
        throw new BerthError('backend_unavailable', 'lost the provisioning lock while claiming; retry', { retryAfterS: 1 });
      }
      // The idle clock starts at the claim, not at the standby's boot.
      await store.sessions.touch(sessionId, binding.claimedAt);
      log.info({ session: sessionId, sandbox: binding.sandboxId, outcome, resumed: resuming }, 'sandbox bound');
      return binding;
    } catch (error) {
      await backend.release(sessionId).catch(() => undefined);
      throw error;
    }
  }

  /** Forgets a sandbox found gone (crashed, reaped elsewhere) and releases whatever is left of it. */
  async dropSandbox(sessionId: string, binding: SandboxBinding, reason: string): Promise<void> {
    const { store, backend, log } = this.options;
    const cleared = await store.bindings.clearSandbox(sessionId, binding.sandboxId);
    if (cleared) log.warn({ session: sessionId, sandbox: binding.sandboxId, reason }, 'sandbox dropped');
    await backend.release(sessionId).catch((error: unknown) => log.warn({ err: error, session: sessionId }, 'release failed'));
  }

  /** Deletes the caller's session and its sandbox. Absent is a no-op; another tenant's is forbidden. */
  async delete(tenant: string, sessionId: string): Promise<boolean> {
    const { store, backend } = this.options;
    const session = await store.sessions.getSession(sessionId);
    if (!session) return false;
    if (session.tenant !== tenant) throw forbidden();
    await store.sessions.deleteSession(sessionId);
    await Promise.all([this.options.events?.remove(sessionId), this.options.ledger?.remove(sessionId)]).catch(() => undefined);
    await backend.release(sessionId);
    try {
      this.options.sessionEvents?.publish({ type: 'session.status_changed', tenant, sessionId, status: 'terminated', turn: null, stopReason: null, at: this.now() });
    } catch (error) {
      this.options.log.warn({ err: error, session: sessionId }, 'session event sink threw');
    }
    return true;
  }
}

function forbidden(): BerthError {
  return new BerthError('forbidden', 'this session belongs to another tenant');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
