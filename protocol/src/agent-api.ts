// The agent server's wire contract (inside each sandbox), shared by the agent server, the
// orchestrator's backends (which wait on /health) and the gateway (which bootstraps and relays).
// Kept general so later features (interrupt, tool approval, MCP servers per profile) can add
// optional fields without a rewrite.

import type { StoredTranscriptEntry } from './transcript.js';

/** Header that carries the per-sandbox AGENT_AUTH_TOKEN on every request to the agent server. */
export const AGENT_AUTH_HEADER = 'x-berth-agent-token';

export type PermissionMode = 'default' | 'acceptEdits' | 'bypassPermissions' | 'plan' | 'dontAsk';

/** The tenant's agent profile: what the Agent SDK is told for every turn of a session. */
export interface AgentProfile {
  model?: string;
  systemPrompt?: string;
  allowedTools?: string[];
  disallowedTools?: string[];
  maxTurns?: number;
  permissionMode?: PermissionMode;
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

export interface HealthResponse {
  status: 'ok';
  bootstrapped: boolean;
  busy: boolean;
  sessionId: string | null;
}

/** POST /sessions/{id}/messages body, the same shape the caller sends the gateway. */
export interface MessageRequest {
  prompt: string;
}

/** `data` of the terminal `done` frame. */
export interface DoneData {
  sdkSessionId: string | null;
}

/** `data` of the terminal `error` frame. */
export interface ErrorData {
  message: string;
  code?: string;
}
