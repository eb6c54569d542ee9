// One local sandbox: an agent-image process (agent-process.ts) with its own random
// AGENT_AUTH_TOKEN on its own loopback port, returned only once its /health answers. The
// backend (local-process-backend.ts) decides what a sandbox is for (standby or session); this
// file only starts one, watches it, and kills it.

import { randomBytes } from 'node:crypto';
import { waitForHealth } from '../../agent-client.js';
import type { SandboxEndpoint } from '../../backend.js';
import { SandboxError } from '../../errors.js';
import type { Logger } from '../../pool/logger.js';
import { startAgentProcess, type AgentProcess } from './agent-process.js';

export interface LocalSandbox {
  readonly id: string;
  readonly profile: string;
  readonly endpoint: SandboxEndpoint;
  readonly process: AgentProcess;
  /** True once the process has exited, for whatever reason. */
  exited: boolean;
  /** True once berth asked it to die, so its exit is not reported as a crash. */
  killRequested: boolean;
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
  const agent = await startAgentProcess({
    host: options.host,
    authToken,
    env: options.env,
    startTimeoutMs: options.startTimeoutMs,
    signal: options.signal,
    onStderr: (chunk) => options.logger.debug({ sandboxId: id, stderr: chunk.slice(0, 2000) }, 'agent stderr'),
  });
  const sandbox: LocalSandbox = {
    id,
    profile: options.profile,
    endpoint: { sandboxId: id, url: agent.url, authToken },
    process: agent,
    exited: false,
    killRequested: false,
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
    await waitForHealth(sandbox.endpoint, { timeoutMs: remainingMs, signal: giveUp.signal });
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
