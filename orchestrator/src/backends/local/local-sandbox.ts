// One local sandbox: an agent-image process (agent-process.ts) with its own random
// AGENT_AUTH_TOKEN on its own loopback port, returned only once its /health answers. The
// backend (local-process-backend.ts) decides what a sandbox is for (standby or session); this
// file only starts one, watches it, and kills it. Isolated (the default where bubblewrap
// exists), the process runs in its jail (jail.ts) under its own uid, with its state folder
// (sandbox-state.ts) and its host-side bridge (bridge-host.ts); kill() takes all three down.

import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForHealth } from '../../agent-client.js';
import type { SandboxEndpoint } from '../../backend.js';
import { SandboxError } from '../../errors.js';
import type { Logger } from '../../pool/logger.js';
import { agentServerEntry, startAgentProcess, type AgentProcess } from './agent-process.js';
import { allocateSourceAddress, startHostBridge, type EgressTarget, type HostBridge } from './bridge-host.js';
import { buildJailCommand, SANDBOX_BRIDGE_DIR, SANDBOX_WORK_DIR, type Isolation, type JailLimits } from './jail.js';
import { createSandboxDirs, removeSandboxDirs, writeOwner, type SandboxDirs } from './sandbox-state.js';

export interface LocalSandbox {
  readonly id: string;
  readonly profile: string;
  readonly endpoint: SandboxEndpoint;
  readonly process: AgentProcess;
  /** True once the process has exited, for whatever reason. */
  exited: boolean;
  /** True once berth asked it to die, so its exit is not reported as a crash. */
  killRequested: boolean;
  /** Isolated only: its own loopback address, the source of its egress connections. */
  readonly sourceAddress?: string;
}

/** What an isolated sandbox needs besides the common options. */
export interface JailOptions {
  isolation: Extract<Isolation, { kind: 'bwrap' }>;
  /** State directory of live sandboxes (sandbox-state.ts). */
  stateDir: string;
  /** The egress gateway's listener(s): the sandbox's only ways out. */
  egress: readonly EgressTarget[];
  limits: JailLimits;
  /** Loopback addresses of this backend's live sandboxes (not to be reused). */
  takenAddresses: ReadonlySet<string>;
}

export interface StartLocalSandboxOptions {
  profile: string;
  /** Loopback address to bind. */
  host: string;
  /** Extra agent environment from the backend options (never the host's environment). */
  env: Record<string, string>;
  /** Bound on listening + first healthy /health, in ms. */
  startTimeoutMs: number;
  /** Aborts the start (backend or pool stopping); the half-started process is killed. */
  signal: AbortSignal;
  logger: Logger;
  /** Present: start it isolated. */
  jail?: JailOptions;
  /** A pool standby: healthy only once its pre-started CLI is parked (agent-client.ts). A cold start does not wait. */
  awaitStandbyCli?: boolean;
}

/**
 * Bytes of the per-sandbox AGENT_AUTH_TOKEN. 32 random bytes (256 bits) make guessing hopeless
 * for any other local process that can reach the loopback port; security control.
 */
const AUTH_TOKEN_BYTES = 32;

export async function startLocalSandbox(options: StartLocalSandboxOptions): Promise<LocalSandbox> {
  if (options.signal.aborted) throw new SandboxError('stopped', 'backend is stopping');
  const id = `local-${randomBytes(6).toString('hex')}`;
  const authToken = randomBytes(AUTH_TOKEN_BYTES).toString('base64url');
  const startedAtMs = Date.now();
  // The last words of a process that fails to start (bwrap's own errors among them) go to the
  // log, never into the problem a caller sees: they name host paths.
  let stderrTail = '';
  const onStderr = (chunk: string): void => {
    stderrTail = (stderrTail + chunk).slice(-2000);
    options.logger.debug({ sandboxId: id, stderr: chunk.slice(0, 2000) }, 'agent stderr');
  };
  let agent: AgentProcess;
  let url: string;
  let sourceAddress: string | undefined;
  try {
    if (options.jail) {
      ({ agent, url, sourceAddress } = await startJailed(id, authToken, options, options.jail, onStderr));
    } else {
      agent = await startAgentProcess({
        host: options.host,
        authToken,
        env: options.env,
        startTimeoutMs: options.startTimeoutMs,
        signal: options.signal,
        onStderr,
      });
      url = agent.url;
    }
  } catch (error) {
    if (!options.signal.aborted) options.logger.warn({ sandboxId: id, stderr: stderrTail }, 'agent process failed to start');
    throw error;
  }
  const sandbox: LocalSandbox = {
    id,
    profile: options.profile,
    endpoint: { sandboxId: id, url, authToken },
    process: agent,
    exited: false,
    killRequested: false,
    ...(sourceAddress ? { sourceAddress } : {}),
  };
  void agent.exited.then(() => {
    sandbox.exited = true;
  });
  // Healthy means /health answered with our token. The wait ends early when the process dies
  // or the backend stops, instead of polling a dead port until the timeout.
  const giveUp = new AbortController();
  const onAbort = (): void => giveUp.abort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  void agent.exited.then(onAbort);
  try {
    const remainingMs = Math.max(1000, options.startTimeoutMs - (Date.now() - startedAtMs));
    await waitForHealth(sandbox.endpoint, { timeoutMs: remainingMs, signal: giveUp.signal, awaitStandbyCli: options.awaitStandbyCli === true });
  } catch (error) {
    const diedFirst = sandbox.exited;
    sandbox.killRequested = true;
    await agent.kill(0);
    if (options.signal.aborted) throw new SandboxError('stopped', 'backend is stopping', { cause: error });
    if (diedFirst) throw new SandboxError('start_failed', `agent process ${id} exited before it became healthy`, { cause: error });
    throw error;
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
  return sandbox;
}

const BRIDGE_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sandbox-bridge.js');

/**
 * Host paths the agent server needs inside its jail, read-only at the same path: the built
 * agent-image (dist + package.json), the protocol package it imports, and the node_modules
 * holding the Agent SDK and its CLI. The rest of the checkout (gateway, cli, tests, .berth/)
 * stays outside.
 */
function agentRuntimePaths(): string[] {
  const agentDist = path.dirname(agentServerEntry());
  const agentRoot = path.dirname(agentDist);
  // Node's own lookup order: the nearest node_modules up from the agent-image that holds the SDK.
  let nodeModules = '';
  for (let dir = agentRoot; nodeModules === '' && dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'node_modules', '@anthropic-ai', 'claude-agent-sdk'))) nodeModules = path.join(dir, 'node_modules');
  }
  if (nodeModules === '') throw new SandboxError('start_failed', `no node_modules with the Agent SDK above ${agentRoot}`);
  const protocolRoot = realpathSync(path.join(nodeModules, '@berth', 'protocol'));
  return [
    agentDist, path.join(agentRoot, 'package.json'),
    path.join(protocolRoot, 'dist'), path.join(protocolRoot, 'package.json'),
    nodeModules,
  ];
}

/** Port of the agent server inside its own network namespace, where nothing else listens. */
const INSIDE_AGENT_PORT = 8000;

/**
 * Outside uid for one sandbox when the gateway runs as root: random in a range no login user
 * holds, so sandboxes share no uid with the gateway or each other (signals, rlimit counts).
 */
function sandboxUid(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = 1_000_000 + randomInt(1_000_000);
  return { uid: id, gid: id };
}

async function startJailed(
  id: string,
  authToken: string,
  options: StartLocalSandboxOptions,
  jail: JailOptions,
  onStderr: (chunk: string) => void,
): Promise<{ agent: AgentProcess; url: string; sourceAddress: string }> {
  const owner = sandboxUid();
  const sourceAddress = allocateSourceAddress(jail.takenAddresses);
  let dirs: SandboxDirs | null = null;
  let bridge: HostBridge | null = null;
  let cleaned: Promise<void> | null = null;
  const cleanUp = (): Promise<void> =>
    (cleaned ??= (async () => {
      bridge?.close();
      if (dirs) await removeSandboxDirs(dirs).catch(() => {});
    })());
  try {
    dirs = await createSandboxDirs(jail.stateDir, id, owner);
    bridge = await startHostBridge({ dir: dirs.bridge, sourceAddress, egress: jail.egress });
    const insidePort = jail.egress.some((target) => target.port === INSIDE_AGENT_PORT) ? INSIDE_AGENT_PORT + 1 : INSIDE_AGENT_PORT;
    const command = buildJailCommand({
      isolation: jail.isolation,
      workDir: dirs.work,
      bridgeDir: dirs.bridge,
      bridgeScript: BRIDGE_SCRIPT,
      readOnly: agentRuntimePaths(),
      nodePath: process.execPath,
      agentEntry: agentServerEntry(),
      limits: jail.limits,
    });
    const agent = await startAgentProcess({
      host: '127.0.0.1',
      port: insidePort,
      authToken,
      env: {
        ...options.env,
        BERTH_AGENT_DATA_DIR: SANDBOX_WORK_DIR,
        BERTH_BRIDGE_DIR: SANDBOX_BRIDGE_DIR,
        BERTH_BRIDGE_EGRESS: jail.egress.map((target) => `${target.host}:${target.port}`).join(','),
        BERTH_BRIDGE_AGENT_PORT: String(insidePort),
      },
      startTimeoutMs: options.startTimeoutMs,
      signal: options.signal,
      onStderr,
      command: { ...command, ...(owner ?? {}), pidNamespace: true },
    });
    const started = dirs;
    await writeOwner(started, agent.child.pid ?? null);
    // Killing the jail ends every process in it (pid namespace); then its doors and folder go.
    const kill = (graceMs?: number): Promise<void> => agent.kill(graceMs).finally(cleanUp);
    return { agent: { ...agent, kill }, url: bridge.url, sourceAddress };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
