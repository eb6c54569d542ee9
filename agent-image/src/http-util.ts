// Small HTTP helpers of the agent server: problem answers (through protocol's one writer), the
// bounded JSON body reader and the constant-time token check. Neighbours: server.ts. Only codes
// of protocol's problem registry are answered, with details that never echo secrets.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeProblem, type ProblemCode } from '@berth/protocol';

/** A problem answer; once a stream's headers went out the response is cut instead. */
export function sendProblem(res: ServerResponse, code: ProblemCode, detail?: string): void {
  writeProblem(res, code, detail === undefined ? {} : { detail });
}

export function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

/**
 * Security control: compares the presented token's SHA-256 with the expected digest in constant
 * time. Comparing digests keeps both sides equal length, so the secret's length does not leak.
 */
export function tokenMatches(presented: string | string[] | undefined, expectedSha256: Buffer): boolean {
  if (typeof presented !== 'string') return false;
  return timingSafeEqual(createHash('sha256').update(presented).digest(), expectedSha256);
}

export type BodyResult = { kind: 'ok'; value: unknown } | { kind: 'too_large' } | { kind: 'invalid'; detail: string };

/** Reads a JSON body of at most maxBytes; stops reading (and answers 413) past the bound. */
export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume();
      return resolve({ kind: 'too_large' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > maxBytes) {
        settled = true;
        resolve({ kind: 'too_large' });
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      if (!settled) (settled = true), resolve({ kind: 'invalid', detail: 'request body could not be read' });
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      try {
        resolve({ kind: 'ok', value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
      } catch {
        resolve({ kind: 'invalid', detail: 'body is not valid JSON' });
      }
    });
  });
}
