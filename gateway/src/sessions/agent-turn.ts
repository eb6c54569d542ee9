// Opens one turn on a sandbox's agent server and classifies the answer before anything is sent
// to the caller: the relay connects upstream first, so a busy or lost sandbox still gets a
// proper problem (or a transparent re-provision) instead of a half-open stream.

import type http from 'node:http';
import type { Readable } from 'node:stream';
import { AGENT_AUTH_HEADER, type MessageRequest } from '@berth/protocol';
import { agentRequest } from '@berth/orchestrator';
import type { SandboxBinding } from '../store/session-records.js';

export type AgentTurn =
  | { kind: 'stream'; response: Readable }
  /** The agent runs another turn of this session (409 turn_in_progress). */
  | { kind: 'busy' }
  /** The sandbox is gone or is not this session's any more: re-provision. */
  | { kind: 'lost'; reason: string }
  | { kind: 'failed'; detail: string };

export interface OpenTurnOptions {
  /** The gateway's turn number (agent API v2): it names the turn for a later re-attach. */
  turn: number;
  /** Time to the response head, in ms. Default 30 000: the agent answers headers at once, but a CLI start-up may precede it. */
  headTimeoutMs?: number;
  /** Aborts opening the turn (a drain before the turn started); once open, the turn runs on regardless. */
  signal: AbortSignal;
}

export function openAgentTurn(binding: SandboxBinding, sessionId: string, prompt: string, options: OpenTurnOptions): Promise<AgentTurn> {
  const body = JSON.stringify({ prompt, turn: options.turn } satisfies MessageRequest);
  const url = new URL(`/sessions/${encodeURIComponent(sessionId)}/messages`, binding.url);
  return new Promise<AgentTurn>((resolve) => {
    // The keep-alive pool the claim's probe and bootstrap used: a first turn reuses their connection.
    const req = agentRequest(url, {
      method: 'POST',
      signal: options.signal,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        accept: 'text/event-stream',
        [AGENT_AUTH_HEADER]: binding.authToken,
      },
    });
    const timer = setTimeout(() => {
      req.destroy(new Error('agent did not answer in time'));
    }, options.headTimeoutMs ?? 30_000);
    req.on('response', (response) => {
      clearTimeout(timer);
      const status = response.statusCode ?? 0;
      if (status === 200) return resolve({ kind: 'stream', response });
      collect(response).then((text) => {
        const code = safeCode(text);
        if (status === 409 && code === 'turn_in_progress') resolve({ kind: 'busy' });
        else if (status === 404 || status === 401 || (status === 409 && code === 'not_bootstrapped')) {
          resolve({ kind: 'lost', reason: `agent answered ${status} ${code ?? ''}`.trim() });
        } else resolve({ kind: 'failed', detail: `agent answered ${status}${code ? ` (${code})` : ''}` });
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (options.signal.aborted) return resolve({ kind: 'failed', detail: 'caller went away' });
      const gone = ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE'].includes(error.code ?? '');
      resolve(gone ? { kind: 'lost', reason: error.code ?? 'connection failed' } : { kind: 'failed', detail: 'agent connection failed' });
    });
    req.end(body);
  });
}

async function collect(response: http.IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of response) {
    if (text.length < 4096) text += String(chunk);
  }
  return text;
}

function safeCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { code?: unknown }).code;
    return typeof code === 'string' ? code.slice(0, 64) : undefined;
  } catch {
    return undefined;
  }
}
