// Starts one agent-image server as a child process: the unit every local sandbox is made of,
// and what the Kubernetes and Modal fakes in tests/fixtures run for each pod or sandbox.
// The child gets a minimal environment (never the parent's, so no real API key leaks in), its
// own process group (so killing it takes its CLI children too) and reports its port on stdout.

import { spawn, type ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SandboxError } from '../../errors.js';
import { killThroughNamespaceInit } from './namespace-kill.js';

export interface AgentProcessOptions {
  /** Loopback address to bind (each sandbox may get its own 127.0.0.N). Default 127.0.0.1. */
  host?: string;
  /** Port to bind; 0 picks a free one. Default 0. */
  port?: number;
  /** The per-sandbox AGENT_AUTH_TOKEN. */
  authToken: string;
  /** Extra environment for the agent server (never secrets beyond the auth token). */
  env?: Record<string, string>;
  /** How long to wait for the listening line, in ms. Default 20 000. */
  startTimeoutMs?: number;
  /** Aborting it kills a process that has not reported its port yet (backend stopping). */
  signal?: AbortSignal;
  /** Called with each stderr chunk, for diagnostics. */
  onStderr?: (chunk: string) => void;
  /**
   * What to run instead of `node <agent entry>`: an isolated sandbox's jail (jail.ts), which
   * starts the same server inside its namespaces. uid/gid: the outside ids it runs under.
   * pidNamespace: its one child is the init of a pid namespace holding the rest, and kill()
   * goes through that init (namespace-kill.ts).
   */
  command?: { file: string; args: string[]; uid?: number; gid?: number; pidNamespace?: boolean };
}

export interface AgentProcess {
  child: ChildProcess;
  host: string;
  port: number;
  url: string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /**
   * SIGTERM to the process group, then SIGKILL after graceMs (default 2000). Resolves once the
   * server has exited and its process group (the CLI it spawned) is gone. Idempotent.
   */
  kill(graceMs?: number): Promise<void>;
}

const require = createRequire(import.meta.url);

/** Absolute path of the agent server's entry point (agent-image/dist/main.js). */
export function agentServerEntry(): string {
  // realpath: require.resolve may answer with the workspace symlink (node_modules/@berth/…), seen
  // in a gateway that vitest spawned; a jail binds real paths, where that symlink leads nowhere.
  return path.join(path.dirname(realpathSync(require.resolve('@berth/agent-image/package.json'))), 'dist', 'main.js');
}

/** Environment every agent process inherits from its host: enough to run node and the CLI. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'LANG', 'LC_ALL', 'TZ', 'NODE_OPTIONS']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

export async function startAgentProcess(options: AgentProcessOptions): Promise<AgentProcess> {
  const host = options.host ?? '127.0.0.1';
  const command = options.command ?? { file: process.execPath, args: [agentServerEntry()] };
  const child = spawn(command.file, command.args, {
    ...(command.uid !== undefined ? { uid: command.uid } : {}),
    ...(command.gid !== undefined ? { gid: command.gid } : {}),
    env: {
      ...baseEnv(),
      ...options.env,
      BERTH_AGENT_HOST: host,
      BERTH_AGENT_PORT: String(options.port ?? 0),
      AGENT_AUTH_TOKEN: options.authToken,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: one signal to -pid reaches the server and every CLI it spawned.
    detached: true,
  });
  // A spawn failure (EAGAIN, EMFILE) arrives as 'error' and, without a listener, would crash the
  // host; 'exit' may then never fire, so it settles `exited` too.
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => options.onStderr?.(chunk));

  // Memoised: a second kill() must not signal -pid again once the group is gone, because by then
  // the number may belong to another sandbox's new process group.
  let killing: Promise<void> | null = null;
  const kill = (graceMs = 2000): Promise<void> => (killing ??= killGroup(graceMs));
  const killGroup = async (graceMs: number): Promise<void> => {
    // A jail ends at once either way (see namespace-kill.ts); this way leaves no zombie to wait for.
    if (command.pidNamespace) await killThroughNamespaceInit(child, exited);
    if (child.exitCode === null && child.signalCode === null) {
      signalGroup(child, 'SIGTERM');
      const timer = graceMs > 0 ? setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs) : null;
      if (timer === null) signalGroup(child, 'SIGKILL');
      await exited;
      if (timer) clearTimeout(timer);
    }
    // The CLI runs in the same group and may outlive the server (or the server died alone):
    // nothing of the group survives a kill.
    signalGroup(child, 'SIGKILL');
    await waitForGroupGone(child, GROUP_GONE_WAIT_MS);
  };

  try {
    const port = await readListeningPort(child, options.startTimeoutMs ?? 20_000, options.signal);
    return { child, host, port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, exited, kill };
  } catch (error) {
    await kill(0);
    throw error;
  }
}

/**
 * How long kill() waits for the killed group to disappear, in ms. Orphaned members (the CLI) are
 * reaped by PID 1, which in some containers takes over a second; past this bound kill() resolves
 * anyway, because SIGKILL already went out and only a zombie entry can remain.
 */
const GROUP_GONE_WAIT_MS = 5000;

async function waitForGroupGone(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.pid === undefined) return;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(-child.pid, 0);
    } catch {
      return; // ESRCH: no process of the group is left.
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** The agent server prints one JSON line `{"event":"listening","port":N}` once bound. */
async function readListeningPort(child: ChildProcess, timeoutMs: number, signal?: AbortSignal): Promise<number> {
  const stdout = child.stdout;
  if (!stdout) throw new SandboxError('start_failed', 'agent process has no stdout');
  stdout.setEncoding('utf8');
  let buffered = '';
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => settle(new SandboxError('timeout', `agent process did not listen within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: string): void => {
      buffered += chunk;
      const match = /"event":"listening".*?"port":(\d+)/.exec(buffered);
      if (match) return settle(Number(match[1]));
      if (buffered.length > 64 * 1024) buffered = buffered.slice(-1024);
    };
    const onExit = (code: number | null, exitSignal: NodeJS.Signals | null): void =>
      settle(new SandboxError('start_failed', `agent process exited before listening (code ${code}, signal ${exitSignal})`));
    const onError = (error: Error): void => settle(new SandboxError('start_failed', `agent process failed to start: ${error.message}`));
    const onAbort = (): void => settle(new SandboxError('stopped', 'agent process start aborted'));
    // Every listener goes once settled: the abort signal is the backend's, shared by all its sandboxes.
    function settle(outcome: number | SandboxError): void {
      clearTimeout(timer);
      stdout!.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      // Keep draining stdout so a chatty server never blocks on a full pipe.
      stdout!.resume();
      if (typeof outcome === 'number') resolve(outcome);
      else reject(outcome);
    }
    stdout.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
