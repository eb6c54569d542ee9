// Talks to one sandbox's agent server over HTTP for what every backend and the gateway share:
// readiness (/health) and the claim-time bootstrap. The SSE turn itself is relayed by the
// gateway (gateway/src/ingress/sse-relay.ts), not here.

import { AGENT_AUTH_HEADER, type BootstrapRequest, type HealthResponse } from '@berth/protocol';
import { SandboxError } from './errors.js';
import type { SandboxEndpoint } from './backend.js';

export interface WaitForHealthOptions {
  /** Total wait in ms. Default 30 000: a cold agent server (Node + SDK import) is up in ~1 s here. */
  timeoutMs?: number;
  /** Delay between probes in ms. Default 50. */
  intervalMs?: number;
  signal?: AbortSignal;
}

/** One probe: the parsed health, or null when the server does not answer 200 yet. */
export async function probeHealth(endpoint: Pick<SandboxEndpoint, 'url' | 'authToken'>, timeoutMs = 2000): Promise<HealthResponse | null> {
  try {
    const res = await fetch(new URL('/health', endpoint.url), {
      headers: { [AGENT_AUTH_HEADER]: endpoint.authToken },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      return null;
    }
    return (await res.json()) as HealthResponse;
  } catch {
    return null;
  }
}

/** Resolves once the agent answers /health; throws SandboxError('start_failed') after the timeout. */
export async function waitForHealth(endpoint: Pick<SandboxEndpoint, 'url' | 'authToken'>, options: WaitForHealthOptions = {}): Promise<HealthResponse> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (options.signal?.aborted) throw new SandboxError('start_failed', 'health wait aborted');
    const health = await probeHealth(endpoint, Math.min(2000, Math.max(100, deadline - Date.now())));
    if (health) return health;
    if (Date.now() >= deadline) throw new SandboxError('start_failed', `agent server at ${endpoint.url} not healthy after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Sends the one claim-time bootstrap. A sandbox that refuses it is unusable: start_failed. */
export async function bootstrapSandbox(endpoint: SandboxEndpoint, request: BootstrapRequest, timeoutMs = 10_000): Promise<void> {
  let res: Response;
  try {
    res = await fetch(new URL('/bootstrap', endpoint.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [AGENT_AUTH_HEADER]: endpoint.authToken },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw new SandboxError('not_found', `sandbox ${endpoint.sandboxId} did not answer its bootstrap`, { cause });
  }
  if (res.status !== 200) {
    const text = await res.text().catch(() => '');
    throw new SandboxError('start_failed', `sandbox ${endpoint.sandboxId} refused its bootstrap (${res.status}): ${text.slice(0, 200)}`);
  }
  await res.body?.cancel();
}
