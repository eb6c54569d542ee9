// Turns a bootstrap (tenant profile, model endpoint, egress) into the Agent SDK's Options and the
// CLI's environment. Pure: no I/O, so the mapping is tested without spawning anything.
// Neighbours: session.ts and run-once.ts call it; prestart.ts hands the result to startup().
// Security control: the CLI's environment is built from scratch (options.env REPLACES the child
// environment), so nothing of the agent server's own env, AGENT_AUTH_TOKEN above all, reaches
// the CLI or the tools it runs.

import type { Options, PermissionMode, SessionStore } from '@anthropic-ai/claude-agent-sdk';
import { agentStartSettings, type AgentProfile, type EgressSettings, type ModelEndpoint } from '@berth/protocol';
import type { PermissionCallbacks } from './permissions.js';

/** Per-session directories, all under the agent's data dir. */
export interface AgentDirs {
  root: string;
  /** HOME: empty, so the Bash tool sources no .bashrc of the image. */
  home: string;
  /** CLAUDE_CONFIG_DIR: the CLI's local transcript copy and config. */
  config: string;
  /** TMPDIR: the CLI's temp files (fswatch probes, sockets) stay in a dir we remove. */
  tmp: string;
  /** cwd of the agent: its workspace. */
  work: string;
}

export interface SdkInputs {
  profile: AgentProfile;
  model: ModelEndpoint;
  egress?: EgressSettings | undefined;
  dirs: AgentDirs;
  /** PATH for the CLI: the only value taken from the server's environment. */
  path: string;
  /** CLAUDE_CODE_MAX_RETRIES; unset leaves the CLI default (10, exponential, minutes in total). */
  maxRetries?: number | undefined;
  /** process.getuid() === 0: bypassPermissions as root needs IS_SANDBOX=1. */
  isRoot: boolean;
  /**
   * The SessionStore projectKey (projectKeyFor(tenant)); unset leaves the SDK's default, the
   * sanitized cwd. Must already satisfy the CLI's rule, or the CLI silently ignores it.
   */
  projectKey?: string | undefined;
}

/** The CLI's whole environment: what it starts with plus the session's endpoint and credential. */
export function buildCliEnv(inputs: SdkInputs): Record<string, string> {
  return { ...buildStartEnv(inputs, inputs.profile), ...buildSessionEnv(inputs) };
}

/**
 * What the CLI reads at start-up and a standby may hold before its claim: paths, quiet flags and
 * retries. No endpoint, no credential, nothing of a tenant. `start` is the profile the CLI is
 * started for (its start settings decide IS_SANDBOX).
 */
export function buildStartEnv(inputs: Pick<SdkInputs, 'path' | 'dirs' | 'maxRetries' | 'isRoot'>, start: AgentProfile): Record<string, string> {
  const env: Record<string, string> = {
    PATH: inputs.path,
    HOME: inputs.dirs.home,
    CLAUDE_CONFIG_DIR: inputs.dirs.config,
    TMPDIR: inputs.dirs.tmp,
    // Without it the CLI probes /api/hello, asks for a title and resolves telemetry hosts.
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_AGENT_SDK_CLIENT_APP: 'berth-agent/0.1.0',
  };
  if (inputs.maxRetries !== undefined) env.CLAUDE_CODE_MAX_RETRIES = String(inputs.maxRetries);
  // The CLI refuses --dangerously-skip-permissions as root unless told it runs in a sandbox,
  // which it does: this process is the sandbox's only tenant.
  if (start.permissionMode === 'bypassPermissions' && inputs.isRoot) env.IS_SANDBOX = '1';
  return env;
}

/**
 * The session's part of the environment: model endpoint, credential, proxies. A standby's CLI
 * gets it at bootstrap as a flag-settings overlay (`env`, SessionHalf), which the CLI applies to
 * itself and to every tool it runs; it never reaches the standby before.
 */
export function buildSessionEnv(inputs: Pick<SdkInputs, 'model' | 'egress'> & { projectKey?: string | undefined }): Record<string, string> {
  const env: Record<string, string> = {
    ANTHROPIC_BASE_URL: inputs.model.baseUrl,
    ANTHROPIC_API_KEY: inputs.model.apiKey,
  };
  // The SDK's load() and the CLI's transcript path (hence every append's key) both take the
  // projectKey from here (CLAUDE_CONFIG_DIR makes them read it). It names the tenant, so it is
  // the session's part: a standby's CLI never starts with it.
  if (inputs.projectKey !== undefined) env.CLAUDE_CODE_PROJECT_DIR_NAME = inputs.projectKey;
  if (inputs.egress) {
    // curl reads only lowercase http_proxy for http URLs, so both cases are set.
    const noProxy = noProxyList(inputs.model.baseUrl, inputs.egress.noProxy);
    for (const [name, value] of [['HTTPS_PROXY', inputs.egress.proxyUrl], ['HTTP_PROXY', inputs.egress.proxyUrl], ['NO_PROXY', noProxy]] as const) {
      env[name] = value;
      env[name.toLowerCase()] = value;
    }
  }
  return env;
}

/** NO_PROXY always names the model host: the proxy variables otherwise hijack even http base URLs. */
export function noProxyList(baseUrl: string, extra: string[]): string {
  const hosts = [new URL(baseUrl).hostname.replace(/^\[|\]$/g, ''), ...extra];
  return [...new Set(hosts.filter((h) => h.length > 0))].join(',');
}

export interface TurnOptionsInputs extends SdkInputs {
  sessionStore: SessionStore;
  abortController: AbortController;
  /** SDK session to continue; undefined starts a new conversation. */
  resume?: string | undefined;
  /** The profile's permission policy as SDK callbacks; absent when the profile has none. */
  permissions?: PermissionCallbacks | undefined;
}

export function buildSdkOptions(inputs: TurnOptionsInputs): Options {
  const { profile } = inputs;
  const options: Options = {
    cwd: inputs.dirs.work,
    env: buildCliEnv(inputs),
    abortController: inputs.abortController,
    // Isolation: no settings files of the image or workspace change what the tenant profile says.
    settingSources: [],
    sessionStore: inputs.sessionStore,
    // 'eager' hands each transcript frame to the store at once, so a sandbox lost mid-turn has
    // already shipped most of the turn; the SDK still flushes every batch before it yields the
    // result and before the iterator ends, so all batches precede the terminal frame.
    sessionStoreFlush: 'eager',
  };
  if (profile.model !== undefined) options.model = profile.model;
  if (profile.systemPrompt !== undefined) options.systemPrompt = profile.systemPrompt;
  if (profile.allowedTools !== undefined) options.allowedTools = [...profile.allowedTools];
  if (profile.disallowedTools !== undefined) options.disallowedTools = [...profile.disallowedTools];
  if (profile.maxTurns !== undefined) options.maxTurns = profile.maxTurns;
  if (profile.permissionMode !== undefined) {
    options.permissionMode = profile.permissionMode;
    if (profile.permissionMode === 'bypassPermissions') options.allowDangerouslySkipPermissions = true;
  }
  if (inputs.resume !== undefined) options.resume = inputs.resume;
  if (inputs.permissions) {
    options.canUseTool = inputs.permissions.canUseTool;
    options.hooks = inputs.permissions.hooks;
    // Left unset, the CLI may pick 'auto' (a classifier decides, not the tenant). 'default'
    // keeps every `ask` on canUseTool; as root it needs no IS_SANDBOX (only bypass does).
    options.permissionMode ??= 'default';
  }
  return options;
}

export interface SpareOptionsInputs extends Pick<SdkInputs, 'path' | 'dirs' | 'maxRetries' | 'isRoot'> {
  /** The start settings the standby is pre-started with (agentStartSettings of its pool's profile). */
  start: AgentProfile;
  /** The endpoint under the sandbox's own egress key (buildSessionEnv of it), when the sandbox knows the egress gateway. */
  endpointEnv?: Record<string, string>;
  /** Where the parked CLI waits: never the session's folder. */
  parkDir: string;
  sessionStore: SessionStore;
  abortController: AbortController;
  /** Callbacks that reach the claiming session's policy; given when `start.permissions` is. */
  permissions?: PermissionCallbacks | undefined;
}

/**
 * Options for prewarm(): everything the CLI fixes at start-up, from the standby's start settings
 * only. The same mapping as buildSdkOptions for those fields, so a claimed spare runs a turn as a
 * cold query() with the session's profile would.
 */
export function buildSpareOptions(inputs: SpareOptionsInputs): Options {
  const start = agentStartSettings(inputs.start);
  const options: Options = {
    cwd: inputs.parkDir,
    env: { ...buildStartEnv(inputs, start), ...inputs.endpointEnv },
    abortController: inputs.abortController,
    settingSources: [],
    sessionStore: inputs.sessionStore,
    sessionStoreFlush: 'eager',
  };
  if (start.systemPrompt !== undefined) options.systemPrompt = start.systemPrompt;
  if (start.allowedTools !== undefined) options.allowedTools = [...start.allowedTools];
  if (start.disallowedTools !== undefined) options.disallowedTools = [...start.disallowedTools];
  if (start.maxTurns !== undefined) options.maxTurns = start.maxTurns;
  if (start.permissionMode === 'bypassPermissions') options.allowDangerouslySkipPermissions = true;
  if (start.permissions !== undefined && inputs.permissions) {
    options.canUseTool = inputs.permissions.canUseTool;
    options.hooks = inputs.permissions.hooks;
  }
  return options;
}

/** The session's half of a standby's CLI, applied to it at bootstrap before its first prompt. */
export interface SessionHalf {
  /**
   * Endpoint, credential, proxies: the CLI's flag-settings `env` layer, applied to it and its
   * tools. Undefined when the CLI started with the endpoint under the sandbox's egress key.
   */
  env?: Record<string, string>;
  model?: string;
  permissionMode?: PermissionMode;
}

/**
 * The session's half: model, permission mode, and endpoint and credential unless `ownKey` (the
 * standby's CLI already holds the endpoint, under the sandbox's egress key). The project key goes
 * with the env: given as an overlay it never moved a started CLI's transcript path anyway.
 */
export function buildSessionHalf(inputs: SdkInputs & { permissions?: PermissionCallbacks | undefined; ownKey?: boolean }): SessionHalf {
  const { profile } = inputs;
  const half: SessionHalf = inputs.ownKey ? {} : { env: buildSessionEnv(inputs) };
  if (profile.model !== undefined) half.model = profile.model;
  // As buildSdkOptions: with a policy, 'default' unless the profile names a mode.
  const mode = profile.permissionMode ?? (inputs.permissions ? 'default' : undefined);
  if (mode !== undefined) half.permissionMode = mode;
  return half;
}
