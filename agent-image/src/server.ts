// The agent server's routes: GET /health, POST /bootstrap (once), POST /sessions/{id}/messages
// (one turn at a time, streamed as SSE). Every request carries AGENT_AUTH_TOKEN when one is set.
// Neighbours: main.ts (config, listen, signals), session.ts (the bootstrapped session),
// frames.ts (the stream). Errors before the stream opens are problem+json; after, they are
// the stream's terminal `event: error` frame.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { AGENT_AUTH_HEADER, type HealthResponse } from '@berth/protocol';
import { parseBootstrap } from './bootstrap.js';
import { FrameWriter } from './frames.js';
import { readJsonBody, sendJson, sendProblem, tokenMatches } from './http-util.js';
import { AgentSession, makeDirs } from './session.js';

export interface ServerSettings {
  /** SHA-256 of the token every request must carry; null disables the check (a developer's hand run). */
  authTokenSha256: Buffer | null;
  dataDir: string;
  prestart: boolean;
  maxRetries: number | undefined;
  /** Bound on request bodies, bytes. A prompt above it is refused with 413. */
  maxBodyBytes: number;
  log: (message: string) => void;
}

export interface AgentServer {
  server: http.Server;
  /** Aborts the running turn, stops warm CLIs and closes the listener. */
  shutdown(): Promise<void>;
}

/** Bootstrap bodies carry a whole transcript; they get a larger bound than prompts. */
const MAX_BOOTSTRAP_BYTES = 64 * 1024 * 1024;
const MESSAGES_ROUTE = /^\/sessions\/([^/]+)\/messages$/;

export function createAgentServer(settings: ServerSettings): AgentServer {
  let session: AgentSession | null = null;
  // Set before the bootstrap's first await, so two concurrent bootstraps cannot both win.
  let bootstrapping = false;

  async function bootstrap(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (bootstrapping || session) return sendProblem(res, 'already_bootstrapped');
    bootstrapping = true;
    try {
      const body = await readJsonBody(req, MAX_BOOTSTRAP_BYTES);
      if (body.kind === 'too_large') return sendProblem(res, 'payload_too_large');
      if (body.kind === 'invalid') return sendProblem(res, 'invalid_body', body.detail);
      const parsed = parseBootstrap(body.value);
      if (parsed.kind === 'invalid') return sendProblem(res, 'invalid_body', parsed.detail);
      const dirs = await makeDirs(settings.dataDir);
      session = new AgentSession(parsed.request, dirs, { dataDir: settings.dataDir, prestart: settings.prestart, maxRetries: settings.maxRetries, log: settings.log });
      sendJson(res, 200, { bootstrapped: true, sessionId: session.sessionId });
    } finally {
      // A refused bootstrap leaves the standby as it was: it may be bootstrapped again.
      if (!session) bootstrapping = false;
    }
  }

  async function message(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    if (!session) return sendProblem(res, 'not_bootstrapped');
    if (id !== session.sessionId) return sendProblem(res, 'session_not_found');
    if (session.busy) return sendProblem(res, 'turn_in_progress');
    const current = session;
    const body = await readJsonBody(req, settings.maxBodyBytes);
    if (body.kind === 'too_large') return sendProblem(res, 'payload_too_large', `a message body is at most ${settings.maxBodyBytes} bytes`);
    if (body.kind === 'invalid') return sendProblem(res, 'invalid_body', body.detail);
    const prompt = (body.value as { prompt?: unknown } | null)?.prompt;
    if (typeof prompt !== 'string' || prompt.length === 0) return sendProblem(res, 'invalid_body', 'body must be {"prompt": non-empty string}');
    // Checked again after the body arrived: another request may have started a turn meanwhile.
    if (current.busy) return sendProblem(res, 'turn_in_progress');
    const callerGone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) callerGone.abort();
    });
    const frames = new FrameWriter(res);
    frames.open();
    const result = await current.turn(prompt, frames, callerGone.signal);
    if (result?.firstAssistantMs != null) settings.log(`turn ${result.outcome}; first assistant message after ${Math.round(result.firstAssistantMs)} ms`);
    if (!res.writableEnded) res.end();
  }

  function health(res: ServerResponse): void {
    const body: HealthResponse = { status: 'ok', bootstrapped: session !== null, busy: session?.busy ?? false, sessionId: session?.sessionId ?? null, turn: null, lastTurn: null };
    sendJson(res, 200, body);
  }

  const server = http.createServer((req, res) => {
    if (settings.authTokenSha256 && !tokenMatches(req.headers[AGENT_AUTH_HEADER], settings.authTokenSha256)) {
      req.resume();
      return sendProblem(res, 'unauthenticated', `header ${AGENT_AUTH_HEADER} is missing or wrong`);
    }
    const pathname = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const route = pathname === '/health' ? 'health' : pathname === '/bootstrap' ? 'bootstrap' : MESSAGES_ROUTE.test(pathname) ? 'messages' : null;
    if (route === null) {
      req.resume();
      return sendProblem(res, 'not_found');
    }
    const wanted = route === 'health' ? 'GET' : 'POST';
    if (req.method !== wanted) {
      req.resume();
      res.setHeader('allow', wanted);
      return sendProblem(res, 'method_not_allowed');
    }
    const run = route === 'health' ? Promise.resolve(health(res)) : route === 'bootstrap' ? bootstrap(req, res) : message(req, res, safeDecode(MESSAGES_ROUTE.exec(pathname)?.[1] ?? ''));
    run.catch((error: unknown) => {
      settings.log(`request failed: ${error instanceof Error ? error.message : String(error)}`);
      sendProblem(res, 'internal');
    });
  });

  return {
    server,
    async shutdown() {
      server.close();
      await session?.close();
      server.closeAllConnections();
    },
  };
}

/** A malformed %-escape cannot name the bootstrapped session; it becomes a 404, not a crash. */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}
