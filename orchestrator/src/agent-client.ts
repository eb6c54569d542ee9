// Talks to one sandbox's agent server over HTTP for what every backend and the gateway share:
// readiness (/health), the claim-time bootstrap, and the turn controls of agent API v2:
// re-attaching to a turn's frames, interrupt and approval answers. Starting a turn and relaying
// its SSE stays in the gateway (gateway/src/ingress/); this file only opens the re-attach stream.
// Every request goes through agent-http.ts's keep-alive pools.

import type http from 'node:http';
import {
  AGENT_AUTH_HEADER,
  agentPaths,
  type ApprovalAnswer,
  isEgressKeySha256,
  type BootstrapRequest,
  type HealthResponse,
  type InterruptResponse,
} from '@berth/protocol';
import { agentExchange, agentRequest, type AgentResponse } from './agent-http.js';
import { SandboxError } from './errors.js';
import type { SandboxEndpoint } from './backend.js';

export interface WaitForHealthOptions {
  /** Total wait in ms. Default 30 000: a cold agent server (Node + SDK import) is up in ~1 s here. */
  timeoutMs?: number;
  /** Delay between probes in ms. Default 50. */
  intervalMs?: number;
  signal?: AbortSignal;
  /**
   * Also wait, within the same bound, until the agent's standby CLI has left `starting` (parked,
   * failed or off), so a standby counts as ready only once its first turn would skip the CLI's
   * start-up. Past `settleMs` (default: the whole bound) the healthy agent is returned anyway:
   * a slow CLI start never makes a healthy standby fail.
   */
  awaitStandbyCli?: boolean;
  settleMs?: number;
}

/** One probe: the parsed health, or null when the server does not answer 200 yet. */
export async function probeHealth(endpoint: Pick<SandboxEndpoint, 'url' | 'authToken'>, timeoutMs = 2000): Promise<HealthResponse | null> {
  try {
    const res = await agentExchange(new URL('/health', endpoint.url), { method: 'GET', headers: { [AGENT_AUTH_HEADER]: endpoint.authToken }, timeoutMs });
    return res.status === 200 ? (JSON.parse(res.text) as HealthResponse) : null;
  } catch {
    return null;
  }
}

/** Resolves once the agent answers /health; throws SandboxError('start_failed') after the timeout. */
export async function waitForHealth(endpoint: Pick<SandboxEndpoint, 'url' | 'authToken'>, options: WaitForHealthOptions = {}): Promise<HealthResponse> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  const settleBy = Math.min(deadline - intervalMs * 4, Date.now() + (options.settleMs ?? timeoutMs));
  for (;;) {
    if (options.signal?.aborted) throw new SandboxError('start_failed', 'health wait aborted');
    const health = await probeHealth(endpoint, Math.min(2000, Math.max(100, deadline - Date.now())));
    if (health && (!options.awaitStandbyCli || health.standbyCli !== 'starting' || Date.now() >= settleBy)) return health;
    if (Date.now() >= deadline) throw new SandboxError('start_failed', `agent server at ${endpoint.url} not healthy after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** What a bootstrap told the gateway back. */
export interface BootstrapOutcome {
  /** SHA-256 of the sandbox's own egress key, when its CLI uses it (BootstrapResponse); bind it to the session. */
  egressKeySha256?: string;
}

/**
 * Sends the one claim-time bootstrap. A sandbox that refuses it, or cannot be reached for it, is
 * unusable: start_failed (the claim failed; the session was never on this sandbox, so nothing of
 * it is lost, which is what not_found would say).
 */
export async function bootstrapSandbox(endpoint: SandboxEndpoint, request: BootstrapRequest, timeoutMs = 10_000): Promise<BootstrapOutcome> {
  let res: AgentResponse;
  try {
    res = await agentExchange(new URL('/bootstrap', endpoint.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [AGENT_AUTH_HEADER]: endpoint.authToken },
      body: JSON.stringify(request),
      timeoutMs,
      maxBodyBytes: 4096,
    });
  } catch (cause) {
    throw new SandboxError('start_failed', `sandbox ${endpoint.sandboxId} did not answer its bootstrap`, { cause });
  }
  if (res.status !== 200) throw new SandboxError('start_failed', `sandbox ${endpoint.sandboxId} refused its bootstrap (${res.status}): ${res.text.slice(0, 200)}`);
  return bootstrapOutcome(res.text);
}

/** The key hash of a 200 body, if well formed; anything else is no key (the session credential serves). */
function bootstrapOutcome(text: string): BootstrapOutcome {
  try {
    const body = JSON.parse(text) as { egressKeySha256?: unknown };
    return isEgressKeySha256(body.egressKeySha256) ? { egressKeySha256: body.egressKeySha256 } : {};
  } catch {
    return {};
  }
}

type AgentEndpoint = Pick<SandboxEndpoint, 'url' | 'authToken'>;

export type TurnStreamOpen =
  /** 200 text/event-stream: the frames after `afterSeq`, then the live tail, ending after the terminal frame. */
  | { kind: 'stream'; response: http.IncomingMessage }
  /** The agent holds no such turn (neither running nor the last finished one). */
  | { kind: 'turn_not_found' }
  /** The sandbox is gone, or is not this session's (refused, reset, 401, 404 session_not_found). */
  | { kind: 'lost'; reason: string }
  | { kind: 'failed'; detail: string };

export interface OpenTurnStreamOptions {
  /** The last frame seq the caller holds; frames after it are sent. Absent = from the first frame. */
  afterSeq?: number;
  /** Time to the response head, in ms. Default 10 000: the agent answers a re-attach at once. */
  headTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * GET /sessions/{id}/turns/{turn}/stream with Last-Event-ID. Any number of readers may be open;
 * closing one never affects the turn. The stream may end with `event: error` code replay_gap
 * when `afterSeq` fell out of the agent's bounded buffer.
 */
export function openTurnStream(endpoint: AgentEndpoint, sessionId: string, turn: number, options: OpenTurnStreamOptions = {}): Promise<TurnStreamOpen> {
  const url = new URL(agentPaths.turnStream(sessionId, turn), endpoint.url);
  const headers: Record<string, string> = { accept: 'text/event-stream', [AGENT_AUTH_HEADER]: endpoint.authToken };
  if (options.afterSeq !== undefined) headers['last-event-id'] = String(options.afterSeq);
  return new Promise<TurnStreamOpen>((resolve) => {
    const req = agentRequest(url, { method: 'GET', headers, signal: options.signal });
    const timer = setTimeout(() => req.destroy(new Error('agent did not answer in time')), options.headTimeoutMs ?? 10_000);
    req.on('response', (response) => {
      clearTimeout(timer);
      const status = response.statusCode ?? 0;
      if (status === 200) return resolve({ kind: 'stream', response });
      void readCode(response).then((code) => {
        if (status === 404 && code === 'turn_not_found') resolve({ kind: 'turn_not_found' });
        else if (status === 404 || status === 401 || (status === 409 && code === 'not_bootstrapped')) resolve({ kind: 'lost', reason: `agent answered ${status} ${code ?? ''}`.trim() });
        else resolve({ kind: 'failed', detail: `agent answered ${status}${code ? ` (${code})` : ''}` });
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const gone = ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE'].includes(error.code ?? '');
      resolve(gone ? { kind: 'lost', reason: error.code ?? 'connection failed' } : { kind: 'failed', detail: options.signal?.aborted ? 'aborted' : 'agent connection failed' });
    });
    req.end();
  });
}

/**
 * POST /sessions/{id}/interrupt: stops the running turn (it ends with stopReason `interrupted`);
 * `{interrupted: false}` when the agent was idle. Idempotent. Throws SandboxError('not_found')
 * when the sandbox does not answer or is not this session's.
 */
export async function interruptTurn(endpoint: AgentEndpoint, sessionId: string, timeoutMs = 10_000): Promise<InterruptResponse> {
  const res = await post(endpoint, agentPaths.interrupt(sessionId), {}, timeoutMs);
  if (res.status !== 200) throw new SandboxError('not_found', `agent refused the interrupt (${res.status} ${res.code ?? ''})`);
  return { interrupted: (res.body as Partial<InterruptResponse> | null)?.interrupted === true };
}

export type ApprovalOutcome = { kind: 'resolved' } | { kind: 'approval_not_found' } | { kind: 'invalid'; detail: string };

/**
 * POST /sessions/{id}/approvals/{requestId}. `approval_not_found`: unknown, or resolved already
 * (another answer or the timeout won). Throws SandboxError('not_found') when the sandbox is gone.
 */
export async function answerApproval(endpoint: AgentEndpoint, sessionId: string, requestId: string, answer: ApprovalAnswer, timeoutMs = 10_000): Promise<ApprovalOutcome> {
  const res = await post(endpoint, agentPaths.approval(sessionId, requestId), answer, timeoutMs);
  if (res.status === 200) return { kind: 'resolved' };
  if (res.status === 404 && res.code === 'approval_not_found') return { kind: 'approval_not_found' };
  if (res.status === 400) return { kind: 'invalid', detail: res.detail ?? 'invalid answer' };
  throw new SandboxError('not_found', `agent refused the approval answer (${res.status} ${res.code ?? ''})`);
}

async function post(endpoint: AgentEndpoint, path: string, body: unknown, timeoutMs: number): Promise<{ status: number; code: string | undefined; detail: string | undefined; body: unknown }> {
  let res: AgentResponse;
  try {
    res = await agentExchange(new URL(path, endpoint.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [AGENT_AUTH_HEADER]: endpoint.authToken },
      body: JSON.stringify(body),
      timeoutMs,
    });
  } catch (cause) {
    throw new SandboxError('not_found', `agent at ${endpoint.url} did not answer ${path.split('/').slice(-1)[0] ?? ''}`, { cause });
  }
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(res.text);
  } catch {
    // Not JSON: status alone decides.
  }
  const fields = (parsed ?? {}) as { code?: unknown; detail?: unknown };
  return {
    status: res.status,
    code: typeof fields.code === 'string' ? fields.code : undefined,
    detail: typeof fields.detail === 'string' ? fields.detail : undefined,
    body: parsed,
  };
}

async function readCode(response: http.IncomingMessage): Promise<string | undefined> {
  let text = '';
  try {
    for await (const chunk of response) {
      text += String(chunk);
      if (text.length > 16_384) break;
    }
    const code = (JSON.parse(text) as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}
