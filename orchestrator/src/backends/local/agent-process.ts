// Starts one agent-image server as a child process: the unit every local sandbox is made of,
// and what the Kubernetes and Modal fakes in tests/fixtures run for each pod or sandbox.
// The child gets a minimal environment (never the parent's, so no real API key leaks in), its
// own process group (so killing it takes its CLI children too) and reports its port on stdout.

import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SandboxError } from '../../errors.js';

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
  /** Called with each stderr chunk, for diagnostics. */
  onStderr?: (chunk: string) => void;
}

export interface AgentProcess {
  child: ChildProcess;
  host: string;
  port: number;
  url: string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** SIGTERM to the process group, then SIGKILL after graceMs. Resolves when gone. */
  kill(graceMs?: number): Promise<void>;
}

const require = createRequire(import.meta.url);

/** Absolute path of the agent server's entry point (agent-image/dist/main.js). */
export function agentServerEntry(): string {
  return path.join(path.dirname(require.resolve('@berth/agent-image/package.json')), 'dist', 'main.js');
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
  const child = spawn(process.execPath, [agentServerEntry()], {
    env: {
      ...baseEnv(),
      ...options.env,
      BERTH_AGENT_HOST: host,
      BERTH_AGENT_PORT: String(options.port ?? 0),
      AGENT_AUTH_TOKEN: options.authToken,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => options.onStderr?.(chunk));

  const kill = async (graceMs = 2000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(child, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    // The CLI runs in the same group; make sure nothing of the group outlives the server.
    signalGroup(child, 'SIGKILL');
  };

  try {
    const port = await readListeningPort(child, options.startTimeoutMs ?? 20_000);
    return { child, host, port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, exited, kill };
  } catch (error) {
    await kill(0);
    throw error;
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
async function readListeningPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  const stdout = child.stdout;
  if (!stdout) throw new SandboxError('start_failed', 'agent process has no stdout');
  stdout.setEncoding('utf8');
  let buffered = '';
  const timeout = AbortSignal.timeout(timeoutMs);
  const found = new Promise<number>((resolve, reject) => {
    const onData = (chunk: string): void => {
      buffered += chunk;
      for (const line of buffered.split('\n')) {
        const match = /"event":"listening".*"port":(\d+)/.exec(line);
        if (match) {
          stdout.off('data', onData);
          stdout.resume();
          resolve(Number(match[1]));
          return;
        }
      }
      if (buffered.length > 64 * 1024) buffered = buffered.slice(-1024);
    };
    stdout.on('data', onData);
    child.once('exit', (code, signal) => reject(new SandboxError('start_failed', `agent process exited before listening (code ${code}, signal ${signal})`)));
    timeout.addEventListener('abort', () => reject(new SandboxError('timeout', `agent process did not listen within ${timeoutMs} ms`)));
  });
  return found;
}
