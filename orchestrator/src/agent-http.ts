// Every request from the gateway (and the backends) to a sandbox's agent server goes through one
// keep-alive pool per scheme, so a new session's health probe, its bootstrap and its first turn
// share one connection: on an isolated local sandbox each new connection crosses two bridges
// (bridge-host.ts, sandbox-bridge.ts), on Modal a new TLS handshake through the tunnel.
// The scheme follows the sandbox's URL: Modal's default encrypted tunnel is https, the local
// and Kubernetes backends answer plain http.
// Neighbours: agent-client.ts (probe, bootstrap, re-attach, controls) and the gateway's
// sessions/agent-turn.ts (opening a turn) build their requests here.

import http from 'node:http';
import https from 'node:https';

/** maxSockets bounds concurrent requests per sandbox; a sandbox serves one session, so 256 is never reached in practice. */
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256 });

/** The keep-alive pools, for tests that trust a private CA (`agentHttpAgents.https.options.ca`). */
export const agentHttpAgents = { http: httpAgent, https: httpsAgent } as const;

export interface AgentRequestOptions {
  method: 'GET' | 'POST';
  headers: Record<string, string | number>;
  signal?: AbortSignal | undefined;
}

/**
 * An un-ended request to `url` on the pool of its scheme. Throws for a scheme that is neither
 * http nor https (a backend bug, never a caller's input).
 */
export function agentRequest(url: URL, options: AgentRequestOptions): http.ClientRequest {
  const common = { method: options.method, headers: options.headers, ...(options.signal ? { signal: options.signal } : {}) };
  if (url.protocol === 'https:') return https.request(url, { ...common, agent: httpsAgent });
  if (url.protocol === 'http:') return http.request(url, { ...common, agent: httpAgent });
  throw new TypeError(`agent URL must be http or https, got ${url.protocol}`);
}

/** One whole exchange: the request, its body, and the bound on the whole answer. */
export interface AgentExchangeOptions extends Omit<AgentRequestOptions, 'signal'> {
  body?: string;
  timeoutMs: number;
  /** Body bytes kept; the rest is read and dropped. Default 1 MiB. */
  maxBodyBytes?: number;
}

export interface AgentResponse {
  status: number;
  /** The body as text, at most `maxBodyBytes` of it. */
  text: string;
}

/**
 * One whole request: resolves with the status and body, rejects on a connection error or when
 * no complete answer came within `timeoutMs` (then the request is destroyed). A request that
 * went out on a pooled connection the agent had just closed as idle (ECONNRESET on a reused
 * socket: the agent never read it) is sent once more on a new connection, as Node's docs advise.
 */
export async function agentExchange(url: URL, options: AgentExchangeOptions): Promise<AgentResponse> {
  try {
    return await exchangeOnce(url, options);
  } catch (error) {
    if (!(error instanceof StaleSocketError)) throw error;
    return exchangeOnce(url, options);
  }
}

class StaleSocketError extends Error {}

function exchangeOnce(url: URL, options: AgentExchangeOptions): Promise<AgentResponse> {
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  return new Promise<AgentResponse>((resolve, reject) => {
    const headers = { ...options.headers, ...(options.body !== undefined ? { 'content-length': Buffer.byteLength(options.body) } : {}) };
    const req = agentRequest(url, { method: options.method, headers });
    const timer = setTimeout(() => req.destroy(new Error(`agent did not answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < maxBodyBytes) chunks.push(chunk.subarray(0, maxBodyBytes - size));
        size += chunk.length;
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(!answered && req.reusedSocket && error.code === 'ECONNRESET' ? new StaleSocketError(error.message) : error);
    });
    req.end(options.body);
  });
}
