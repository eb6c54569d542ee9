// The agent server's wire contract (inside each sandbox), shared by the agent server, the
// orchestrator's backends (which wait on /health) and the gateway (which bootstraps, starts
// turns, re-attaches to them, interrupts and answers approvals). v2 (issue 13): a turn runs
// detached inside the agent; its frames are numbered per turn and kept (bounded) so any gateway
// replica can re-attach after the last frame it stored. /work/brief/agent-api-v2.md is the prose.

import type { StoredTranscriptEntry } from './transcript.js';

/** Header that carries the per-sandbox AGENT_AUTH_TOKEN on every request to the agent server. */
export const AGENT_AUTH_HEADER = 'x-berth-agent-token';

export type PermissionMode = 'default' | 'acceptEdits' | 'bypassPermissions' | 'plan' | 'dontAsk';

/** What the permission policy decides for one tool call; `ask` asks the caller (approval_request). */
export type PermissionDecision = 'allow' | 'deny' | 'ask';

/** One rule: `tool` is an exact tool name or a pattern where `*` matches any run of characters. */
export interface PermissionRule {
  tool: string;
  decision: PermissionDecision;
}

/** Becomes the SDK's canUseTool: the first matching rule wins, else `default` (itself default 'allow'). */
export interface PermissionPolicy {
  default?: PermissionDecision;
  rules?: PermissionRule[];
}

/** The tenant's agent profile: what the Agent SDK is told for every turn of a session. */
export interface AgentProfile {
  model?: string;
  systemPrompt?: string;
  allowedTools?: string[];
  disallowedTools?: string[];
  maxTurns?: number;
  permissionMode?: PermissionMode;
  /** Tool-call policy; absent = the SDK decides alone (permissionMode, allowedTools), no canUseTool. */
  permissions?: PermissionPolicy;
  /** Seconds an `ask` waits for the caller's answer; no answer in time is a deny. Default 300. */
  approvalTimeoutS?: number;
  /** Seconds a turn may run; then it is interrupted with stopReason `error:turn_timeout`. Default 1800. */
  turnTimeoutS?: number;
  /** Frames one turn may emit; beyond, the turn ends with `error` code frame_limit. Default 5000. */
  maxFramesPerTurn?: number;
  /** Bytes of one frame's data; a larger frame ends the turn with `error` code frame_limit. Default 1 MiB. */
  maxFrameBytes?: number;
}

/** Defaults of the optional AgentProfile limits (the agent applies them; the gateway may show them). */
export const AGENT_PROFILE_DEFAULTS = {
  approvalTimeoutS: 300,
  turnTimeoutS: 1800,
  maxFramesPerTurn: 5000,
  maxFrameBytes: 1024 * 1024,
} as const;

/**
 * The part of an agent profile the Agent SDK fixes when its CLI starts (prewarm()): what a
 * standby is pre-started with, before any claim. Two profiles with equal start settings can share
 * a standby; model, permission mode (but bypass), permission rules, limits and every credential
 * are per session and reach the CLI at bootstrap. `permissions` keeps only its presence (the CLI then
 * asks the agent's callbacks, which apply the session's rules); its rules are not start settings.
 */
export function agentStartSettings(profile: AgentProfile): AgentProfile {
  const start: AgentProfile = {};
  if (profile.systemPrompt !== undefined) start.systemPrompt = profile.systemPrompt;
  if (profile.allowedTools !== undefined) start.allowedTools = [...profile.allowedTools];
  if (profile.disallowedTools !== undefined) start.disallowedTools = [...profile.disallowedTools];
  if (profile.maxTurns !== undefined) start.maxTurns = profile.maxTurns;
  if (profile.permissionMode === 'bypassPermissions') start.permissionMode = 'bypassPermissions';
  if (profile.permissions !== undefined) start.permissions = {};
  return start;
}

/** A canonical string of a profile's start settings: equal keys, interchangeable standbys. */
export function agentStartKey(profile: AgentProfile): string {
  const s = agentStartSettings(profile);
  return JSON.stringify([s.systemPrompt ?? null, s.allowedTools ?? null, s.disallowedTools ?? null, s.maxTurns ?? null, s.permissionMode ?? null, s.permissions !== undefined]);
}

/** Where the agent sends its model calls, and with what credential (never the real key). */
export interface ModelEndpoint {
  baseUrl: string;
  apiKey: string;
}

/** Forward proxy for everything else the agent reaches (egress gateway). */
export interface EgressSettings {
  proxyUrl: string;
  /** Hosts that bypass the proxy, at least the model endpoint's host. */
  noProxy: string[];
}

/** POST /bootstrap: sent once, at claim, by the gateway. */
export interface BootstrapRequest {
  sessionId: string;
  tenant: string;
  profile: AgentProfile;
  model: ModelEndpoint;
  egress?: EgressSettings;
  /** The SDK session to resume, when the conversation began on an earlier sandbox. */
  resumeSdkSessionId?: string;
  /** Stored transcript entries to serve from SessionStore.load() when resuming. */
  transcript?: StoredTranscriptEntry[];
}

/** POST /bootstrap's 200 body. */
export interface BootstrapResponse {
  bootstrapped: true;
  sessionId: string;
  /**
   * SHA-256 (hex) of the sandbox's own egress key (egress-key.ts), when its standby's CLI was
   * started with one for the bootstrap's endpoint: the gateway binds it to the session, and the
   * egress gateway refuses the key until then. Absent: the sandbox uses the session credential.
   */
  egressKeySha256?: string;
}

/**
 * What a standby's pre-started CLI (the SDK's prewarm()) became: `off` (pre-start disabled),
 * `starting`, `parked` (started and claimed into the work folder, its prompt held, waiting for its
 * session), `claimed` (a session took it), `discarded` (the session's start settings differ from
 * the standby's, or it resumes a conversation: its first turn started cold), `failed` (it did not
 * start, its claim was refused, it died, or it refused the session's half).
 */
export type StandbyCliState = 'off' | 'starting' | 'parked' | 'claimed' | 'discarded' | 'failed';

export interface HealthResponse {
  status: 'ok';
  /** The standby's pre-started CLI; absent from agents that predate it. */
  standbyCli?: StandbyCliState;
  bootstrapped: boolean;
  busy: boolean;
  sessionId: string | null;
  /** The running turn's number, if any. */
  turn: number | null;
  /** The number of the last finished turn (its frames are still replayable), if any. */
  lastTurn: number | null;
}

/**
 * POST /sessions/{id}/messages body. `turn` is the gateway's turn number (≥ 1); it names the
 * turn for GET /sessions/{id}/turns/{turn}/stream. (An agent given no `turn` numbers it
 * lastTurn + 1, for hand runs.) 409 turn_in_progress while another turn runs.
 */
export interface MessageRequest {
  prompt: string;
  turn: number;
}

/** Events on an agent turn stream; every frame carries `id: <seq>` (integer, 1-based, per turn). */
export type AgentEvent = 'message' | 'transcript' | 'approval_request' | 'approval_resolved' | 'done' | 'error';

/** Why a turn ended: `error:<code>` carries the terminal error frame's code. */
export type StopReason = 'end_turn' | 'max_turns' | 'interrupted' | 'budget_reached' | `error:${string}`;

/**
 * The egress gateway puts this tag in the message of its budget refusal (a Messages API error the
 * CLI reports verbatim), so the agent ends such a turn with stopReason `budget_reached`: the
 * tenant's policy working, like max_turns, not a failure. A tag, because the CLI passes on only
 * the error's text, not the response's headers.
 */
export const BUDGET_REFUSAL_TAG = '[berth:budget_exhausted]';

/**
 * Stable `code`s of a turn stream's terminal `error` frame. turn_failed: the SDK/CLI failed;
 * turn_timeout: turnTimeoutS ran out; frame_limit: maxFramesPerTurn/maxFrameBytes exceeded;
 * turn_aborted: the sandbox shut down mid-turn; replay_gap: a re-attach asked for frames the
 * agent no longer holds (that error ends only the reader's stream, not the turn).
 */
export type AgentTurnErrorCode = 'turn_failed' | 'turn_timeout' | 'frame_limit' | 'turn_aborted' | 'replay_gap';

/** `data` of the terminal `done` frame. */
export interface DoneData {
  sdkSessionId: string | null;
  stopReason: StopReason;
}

/** `data` of the terminal `error` frame (stopReason is `error:<code>`, or `interrupted`/`max_turns` when those ended badly). */
export interface ErrorData {
  message: string;
  code: string;
  stopReason: StopReason;
  sdkSessionId?: string | null;
}

/** `data` of an `approval_request` frame: the turn waits for POST /sessions/{id}/approvals/{requestId}. */
export interface ApprovalRequestData {
  requestId: string;
  tool: string;
  input: Record<string, unknown>;
}

export type ApprovalDecision = 'allow' | 'deny';

/** `data` of an `approval_resolved` frame; `policy` = decided by the profile without asking. */
export interface ApprovalResolvedData {
  requestId: string;
  decision: ApprovalDecision;
  by: 'caller' | 'timeout' | 'policy';
}

/** POST /sessions/{id}/approvals/{requestId} body; `updatedInput` (allow only) replaces the tool's input. */
export interface ApprovalAnswer {
  decision: ApprovalDecision;
  message?: string;
  updatedInput?: Record<string, unknown>;
}

/** 200 answer of POST /sessions/{id}/approvals/{requestId}; unknown or already resolved is 404 approval_not_found. */
export interface ApprovalAnswerResponse {
  resolved: true;
}

/** 200 answer of POST /sessions/{id}/interrupt; false when no turn was running. */
export interface InterruptResponse {
  interrupted: boolean;
}

/** Query parameter equivalent of Last-Event-ID on GET /sessions/{id}/turns/{turn}/stream. */
export const AGENT_STREAM_AFTER_PARAM = 'after';

/** Paths of the agent server's routes (ids are URI-encoded). */
export const agentPaths = {
  health: '/health',
  bootstrap: '/bootstrap',
  messages: (sessionId: string) => `/sessions/${encodeURIComponent(sessionId)}/messages`,
  turnStream: (sessionId: string, turn: number) => `/sessions/${encodeURIComponent(sessionId)}/turns/${turn}/stream`,
  interrupt: (sessionId: string) => `/sessions/${encodeURIComponent(sessionId)}/interrupt`,
  approval: (sessionId: string, requestId: string) => `/sessions/${encodeURIComponent(sessionId)}/approvals/${encodeURIComponent(requestId)}`,
} as const;
