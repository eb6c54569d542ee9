// The agent server's routes (agent API v2, protocol/src/agent-api.ts):
//   GET  /health                                   status, running turn, last turn
//   POST /bootstrap                                once per sandbox
//   POST /sessions/{id}/messages                   starts a detached turn and streams it (SSE)
//   GET  /sessions/{id}/turns/{turn}/stream        re-attach: frames after Last-Event-ID, then the tail
//   POST /sessions/{id}/interrupt                  stops the running turn
//   POST /sessions/{id}/approvals/{requestId}      answers a tool-call approval
// Every request carries AGENT_AUTH_TOKEN when one is set. Neighbours: main.ts (config, listen,
// signals), session.ts (the bootstrapped session and its turns), turn-stream.ts (SSE readers).
// Errors before a stream opens are problem+json; after, the turn's terminal frame says it all.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { AGENT_AUTH_HEADER, AGENT_STREAM_AFTER_PARAM, type AgentProfile, type ApprovalAnswer, type BootstrapResponse, type HealthResponse, type InterruptResponse } from '@berth/protocol';
import { parseApprovalAnswer, parseMessageRequest } from './requests.js';
import { parseBootstrap } from './bootstrap.js';
import { readJsonBody, sendJson, sendProblem, tokenMatches } from './http-util.js';
import { AgentSession, makeDirs } from './session.js';
import { StandbyCli } from './standby.js';
import { streamTurn } from './turn-stream.js';

export interface ServerSettings {
  /** SHA-256 of the token every request must carry; null disables the check (a developer's hand run). */
  authTokenSha256: Buffer | null;
  dataDir: string;
  prestart: boolean;
  /** The pool's start settings the standby's CLI is pre-started with (BERTH_AGENT_STANDBY_PROFILE); default {}. */
  standbyProfile?: AgentProfile;
  /** The egress gateway's URL (BERTH_EGRESS_URL): the standby's CLI starts with it, under the sandbox's own egress key. */
  egressUrl?: string | undefined;
  maxRetries: number | undefined;
  /** Bound on request bodies, bytes. A prompt above it is refused with 413. */
  maxBodyBytes: number;
  /** Bytes of frame data kept per turn for re-attach; see TurnLogLimits.maxBufferedBytes. */
  maxBufferedBytes: number;
  log: (message: string) => void;
}

export interface AgentServer {
  server: http.Server;
  /** Aborts the running turn, stops warm CLIs and closes the listener. */
  shutdown(): Promise<void>;
}

/** Bootstrap bodies carry a whole transcript; they get a larger bound than prompts. */
const MAX_BOOTSTRAP_BYTES = 64 * 1024 * 1024;
const MAX_SMALL_BODY_BYTES = 1024 * 1024;

type Route =
  | { kind: 'health' | 'bootstrap' }
  | { kind: 'messages' | 'interrupt'; id: string }
  | { kind: 'stream'; id: string; turn: number }
  | { kind: 'approval'; id: string; requestId: string };

const ROUTES: Array<[RegExp, 'GET' | 'POST', (m: string[]) => Route | null]> = [
  [/^\/health$/, 'GET', () => ({ kind: 'health' })],
  [/^\/bootstrap$/, 'POST', () => ({ kind: 'bootstrap' })],
  [/^\/sessions\/([^/]+)\/messages$/, 'POST', (m) => ({ kind: 'messages', id: safeDecode(m[1]!) })],
  [/^\/sessions\/([^/]+)\/interrupt$/, 'POST', (m) => ({ kind: 'interrupt', id: safeDecode(m[1]!) })],
  [/^\/sessions\/([^/]+)\/approvals\/([^/]+)$/, 'POST', (m) => ({ kind: 'approval', id: safeDecode(m[1]!), requestId: safeDecode(m[2]!) })],
  [/^\/sessions\/([^/]+)\/turns\/([^/]+)\/stream$/, 'GET', (m) => ({ kind: 'stream', id: safeDecode(m[1]!), turn: Number(m[2]) })],
];

export function createAgentServer(settings: ServerSettings): AgentServer {
  let session: AgentSession | null = null;
  // Started now, before any claim: the first turn of the session this standby gets skips the CLI's start-up.
  const standby = settings.prestart ? new StandbyCli({ dataDir: settings.dataDir, start: settings.standbyProfile ?? {}, egressUrl: settings.egressUrl, maxRetries: settings.maxRetries, log: settings.log }) : null;
  standby?.start();
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
      session = new AgentSession(parsed.request, dirs, { dataDir: settings.dataDir, prestart: settings.prestart, maxRetries: settings.maxRetries, maxBufferedBytes: settings.maxBufferedBytes, log: settings.log }, standby ?? undefined);
      const answer: BootstrapResponse = { bootstrapped: true, sessionId: session.sessionId };
      if (session.egressKeySha256 !== null) answer.egressKeySha256 = session.egressKeySha256;
      sendJson(res, 200, answer);
    } finally {
      // A refused bootstrap leaves the standby as it was: it may be bootstrapped again.
      if (!session) bootstrapping = false;
    }
  }

  /** The bootstrapped session if `id` names it; otherwise the problem is sent and null returned. */
  function sessionFor(res: ServerResponse, id: string): AgentSession | null {
    if (!session) return sendProblem(res, 'not_bootstrapped'), null;
    if (id !== session.sessionId) return sendProblem(res, 'session_not_found'), null;
    return session;
  }

  async function message(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const current = sessionFor(res, id);
    if (!current) return req.resume(), undefined;
    if (current.busy) return req.resume(), sendProblem(res, 'turn_in_progress');
    const body = await readJsonBody(req, settings.maxBodyBytes);
    if (body.kind === 'too_large') return sendProblem(res, 'payload_too_large', `a message body is at most ${settings.maxBodyBytes} bytes`);
    if (body.kind === 'invalid') return sendProblem(res, 'invalid_body', body.detail);
    const parsed = parseMessageRequest(body.value);
    if (parsed.kind === 'invalid') return sendProblem(res, 'invalid_body', parsed.detail);
    // Checked again after the body arrived: another request may have started a turn meanwhile.
    if (current.busy) return sendProblem(res, 'turn_in_progress');
    const last = current.lastTurn ?? 0;
    if (parsed.turn !== undefined && parsed.turn <= last) {
      // A re-sent start of a turn that ran already must not run the prompt twice.
      return sendProblem(res, 'turn_in_progress', `turn ${parsed.turn} already ran here (the last turn is ${last}); read it with GET /sessions/${id}/turns/${parsed.turn}/stream`);
    }
    // Without a turn number (a hand run) the agent numbers the turn itself; it runs detached all
    // the same: a caller disconnect ends only this reading, and GET …/turns/{turn}/stream
    // re-attaches (GET /health names the running turn).
    const log = current.startTurn(parsed.turn ?? last + 1, parsed.prompt);
    streamTurn(res, log, 0);
  }

  function stream(req: IncomingMessage, res: ServerResponse, id: string, turn: number): void {
    const current = sessionFor(res, id);
    if (!current) return;
    const after = afterSeq(req);
    if (after === null) return sendProblem(res, 'invalid_body', `Last-Event-ID (or ?${AGENT_STREAM_AFTER_PARAM}=) must be a non-negative integer`);
    const log = Number.isInteger(turn) ? current.turnLog(turn) : null;
    if (!log) return sendProblem(res, 'turn_not_found', `the agent holds turns ${[current.lastTurn, current.turn].filter((t) => t !== null).join(' and ') || 'none'}`);
    streamTurn(res, log, after);
  }

  async function interrupt(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    req.resume();
    const current = sessionFor(res, id);
    if (!current) return;
    const body: InterruptResponse = { interrupted: current.interrupt() };
    sendJson(res, 200, body);
  }

  async function approval(req: IncomingMessage, res: ServerResponse, id: string, requestId: string): Promise<void> {
    const current = sessionFor(res, id);
    if (!current) return req.resume(), undefined;
    const body = await readJsonBody(req, MAX_SMALL_BODY_BYTES);
    if (body.kind === 'too_large') return sendProblem(res, 'payload_too_large');
    if (body.kind === 'invalid') return sendProblem(res, 'invalid_body', body.detail);
    const parsed = parseApprovalAnswer(body.value);
    if (parsed.kind === 'invalid') return sendProblem(res, 'invalid_body', parsed.detail);
    const answer: ApprovalAnswer = parsed.answer;
    if (current.answerApproval(requestId, answer) === 'not_found') return sendProblem(res, 'approval_not_found', 'unknown, already answered, or timed out (a timeout denies)');
    sendJson(res, 200, { resolved: true });
  }

  function health(res: ServerResponse): void {
    const body: HealthResponse = {
      status: 'ok',
      bootstrapped: session !== null,
      busy: session?.busy ?? false,
      sessionId: session?.sessionId ?? null,
      turn: session?.turn ?? null,
      lastTurn: session?.lastTurn ?? null,
      standbyCli: standby?.state ?? 'off',
    };
    sendJson(res, 200, body);
  }

  const server = http.createServer((req, res) => {
    if (settings.authTokenSha256 && !tokenMatches(req.headers[AGENT_AUTH_HEADER], settings.authTokenSha256)) {
      req.resume();
      return sendProblem(res, 'unauthenticated', `header ${AGENT_AUTH_HEADER} is missing or wrong`);
    }
    const pathname = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const match = ROUTES.map(([pattern, method, build]) => ({ m: pattern.exec(pathname), method, build })).find((r) => r.m !== null);
    if (!match?.m) {
      req.resume();
      return sendProblem(res, 'not_found');
    }
    if (req.method !== match.method) {
      req.resume();
      res.setHeader('allow', match.method);
      return sendProblem(res, 'method_not_allowed');
    }
    const route = match.build(match.m);
    let run: Promise<void>;
    switch (route?.kind) {
      case 'health':
        run = Promise.resolve(health(res));
        break;
      case 'bootstrap':
        run = bootstrap(req, res);
        break;
      case 'messages':
        run = message(req, res, route.id);
        break;
      case 'stream':
        run = Promise.resolve(stream(req, res, route.id, route.turn));
        break;
      case 'interrupt':
        run = interrupt(req, res, route.id);
        break;
      case 'approval':
        run = approval(req, res, route.id, route.requestId);
        break;
      default:
        run = Promise.resolve(sendProblem(res, 'not_found'));
    }
    run.catch((error: unknown) => {
      settings.log(`request failed: ${error instanceof Error ? error.message : String(error)}`);
      sendProblem(res, 'internal');
    });
  });

  return {
    server,
    async shutdown() {
      server.close();
      standby?.close();
      await session?.close();
      server.closeAllConnections();
    },
  };
}

/** Last-Event-ID header, else ?after=, else 0 (from the first frame); null when malformed. */
function afterSeq(req: IncomingMessage): number | null {
  const header = req.headers['last-event-id'];
  const raw = typeof header === 'string' && header !== '' ? header : new URL(req.url ?? '/', 'http://agent').searchParams.get(AGENT_STREAM_AFTER_PARAM);
  if (raw === null || raw === '') return 0;
  return /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

/** A malformed %-escape cannot name the bootstrapped session; it becomes a 404, not a crash. */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}
