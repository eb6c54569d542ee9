// The one writer of problem answers (RFC 9457) for every berth server: express responses (the
// ingress), raw node:http responses (the egress gateway, the agent server) and raw sockets (a
// CONNECT the egress gateway refuses has no response object). The body comes from the registry
// in problems.ts; only these functions put it on the wire. They take the minimal shapes below,
// which node:http's ServerResponse, express's Response and net/tls sockets all have, so protocol
// stays free of runtime dependencies.

import { PROBLEM_CONTENT_TYPE, problemBody, type ProblemCode } from './problems.js';

/** What writing a problem needs of a response: express's Response and node:http's ServerResponse fit. */
export interface ProblemResponse {
  readonly headersSent: boolean;
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: string): unknown;
  destroy(): unknown;
}

/** What writing a problem needs of a raw socket (a refused CONNECT). */
export interface ProblemSocket {
  readonly writable: boolean;
  end(data: string): unknown;
  destroy(): unknown;
}

export interface ProblemAnswer {
  /** Free of secrets: it reaches the caller verbatim. */
  detail?: string;
  /** Seconds; sent as Retry-After (429 and 503 answers). */
  retryAfterS?: number;
  /** The request path the problem is about (RFC 9457 `instance`). */
  instance?: string;
  /** Extra response headers, e.g. a 407's Proxy-Authenticate. */
  headers?: Record<string, string>;
}

/** The status, headers and body of a problem answer; the writers below send it. */
export function renderProblem(code: ProblemCode, answer: ProblemAnswer = {}): { status: number; headers: Record<string, string>; body: string } {
  const problem = problemBody(code, answer.detail, answer.instance === undefined ? {} : { instance: answer.instance });
  const body = JSON.stringify(problem);
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE, ...answer.headers };
  if (answer.retryAfterS !== undefined) headers['retry-after'] = String(answer.retryAfterS);
  headers['content-length'] = String(new TextEncoder().encode(body).byteLength);
  return { status: problem.status, headers, body };
}

/**
 * Answers `code` on a response. Once headers went out (a stream is running) no status can be
 * sent any more, so the response is cut instead: the caller sees a broken stream, never a
 * problem body spliced into it. (An SSE stream's own errors are `event: error` frames.)
 */
export function writeProblem(res: ProblemResponse, code: ProblemCode, answer: ProblemAnswer = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, headers, body } = renderProblem(code, answer);
  res.writeHead(status, headers);
  res.end(body);
}

/** Answers `code` as a whole HTTP/1.1 response written onto a raw socket, which is then closed. */
export function writeProblemToSocket(socket: ProblemSocket, code: ProblemCode, answer: ProblemAnswer = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { status, headers, body } = renderProblem(code, answer);
  let head = `HTTP/1.1 ${status} ${REASON_PHRASES[status] ?? 'Error'}\r\n`;
  for (const [name, value] of Object.entries({ ...headers, connection: 'close' })) head += `${name}: ${value}\r\n`;
  socket.end(`${head}\r\n${body}`);
}

/** Reason phrases of the statuses the registry uses (RFC 9110 §15), for raw socket answers. */
const REASON_PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
