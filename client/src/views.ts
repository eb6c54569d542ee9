// The JSON bodies of berth's caller and admin routes, written by hand to mirror the gateway
// (ingress/routes-*.ts) without depending on it. Timestamps are ISO 8601 strings. Fields a
// newer gateway adds are passed through untyped.

export type SessionStatus = 'idle' | 'running' | 'awaiting_approval' | 'rescheduling' | 'terminated';

/** GET /sessions/{id}: never the sandbox's address or token. */
export interface SessionView {
  id: string;
  tenant: string;
  profile: string;
  createdAt: string;
  lastActivityAt: string;
  /** Turns started on this session. */
  turns: number;
  status: SessionStatus;
  currentTurn: number | null;
  lastStopReason: string | null;
  sandbox: { profile: string; claimedAt: string } | null;
}

/** One page of GET /sessions; `nextCursor` is null on the last page (opaque: pass it back as is). */
export interface SessionPage {
  sessions: SessionView[];
  nextCursor: string | null;
}

/** DELETE /sessions/{id}: `deleted` false when there was no such session (a no-op). */
export interface DeleteResult {
  id: string;
  deleted: boolean;
  status: 'deleted';
}

/** One sandbox pool (a profile). Counts are this replica's view on the local backend. */
export interface PoolStatus {
  profile: string;
  target: number;
  ready: number;
  starting: number;
  claimed: number;
  coldStarts: number;
  warmClaims: number;
}

/** GET /api/pool: berth's pools plus the cookbook gateway's summed fields. */
export interface PoolView {
  backend: string;
  pools: PoolStatus[];
  target_size: number;
  ready_count: number;
  standby_pods: string[];
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

/** The current window of a tenant's token budget; the quotas refuse turns once `remainingTokens` is 0. */
export interface BudgetView {
  /** Tokens per window (input, output, cache creation and cache read alike). */
  tokens: number;
  periodS: number;
  /** Metered in this window; may exceed `tokens` (turns running together overshoot). */
  usedTokens: number;
  /** `tokens` − `usedTokens`, never below 0. */
  remainingTokens: number;
  /** ISO 8601 UTC; windows are fixed, aligned to the Unix epoch. */
  windowStartsAt: string;
  windowEndsAt: string;
}

/**
 * GET /api/usage: the caller's metered model tokens, in total and for one page of its sessions
 * (by session id, in id order), and its budget window (null without a token budget).
 */
export interface UsageView {
  tenant: string;
  total: TokenUsage;
  sessions: Record<string, TokenUsage>;
  /** Pass as `cursor` for the next page of sessions; null on the last page. */
  nextCursor: string | null;
  budget: BudgetView | null;
}

/** One session's lifetime counters, as `usageSessions()` yields them. */
export interface SessionUsage {
  sessionId: string;
  usage: TokenUsage;
}

export interface InterruptResult {
  /** False when no turn was running. */
  interrupted: boolean;
}

export interface ApprovalAnswer {
  decision: 'allow' | 'deny';
  /** Told to the model with a deny. */
  message?: string;
  /** With allow: replaces the tool call's input. */
  updatedInput?: Record<string, unknown>;
}

export interface ApprovalResult {
  resolved: true;
}

/** One stored frame of GET /sessions/{id}/events?format=json; `data` is parsed JSON. */
export interface StoredEvent {
  id: string;
  event: string;
  data: unknown;
}

export interface EventPage {
  events: StoredEvent[];
  /** Pass as `after` for the next page. */
  nextAfter: string | null;
  /** The log's last id now. */
  last: string | null;
}

export interface HealthStatus {
  status: string;
}

/** An operator's view of a session: the caller's view plus the SDK session and sandbox ids. */
export interface AdminSessionView extends Omit<SessionView, 'sandbox'> {
  sdkSessionId?: string | null;
  sandbox: { profile: string; claimedAt: string; sandboxId: string } | null;
}

export interface AdminSessionPage {
  sessions: AdminSessionView[];
  nextCursor: string | null;
}

export interface AdminSessionDetail extends AdminSessionView {
  usage: TokenUsage | null;
}

export interface AdminDeleteResult {
  id: string;
  tenant: string;
  deleted: boolean;
}

export interface AdminPoolView {
  backend: string;
  pools: Array<PoolStatus & { standbyIds?: string[] }>;
}

/**
 * One tenant's usage: with ?tenant= one page of its sessions (session-id order) and the cursor
 * of the next (null on the last); across all tenants a session count.
 */
export interface TenantUsage {
  tenant: string;
  total: TokenUsage;
  sessions?: Record<string, TokenUsage>;
  nextCursor?: string | null;
  sessionCount?: number;
}

export interface AdminUsageView {
  usage: TenantUsage[];
}

/** POST /admin/tenants/check: every problem with its path; nothing is changed. */
export type TenantsCheck =
  | { ok: true; problems: []; warnings: string[]; tenants: string[]; adminTokens: number }
  | { ok: false; problems: string[]; warnings: string[] };
