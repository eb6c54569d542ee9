// The admin commands' HTTP client: where the gateway is (--url, BERTH_URL), which admin token
// to send (--token, BERTH_ADMIN_TOKEN), one request with a timeout, and a gateway problem+json
// turned into one readable line. Commands (commands/sessions.ts, pool.ts, usage.ts, tenants.ts)
// render what it returns; it prints nothing itself and never puts the token in a message.

import type { Flags } from './flags.js';

export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8080';

/**
 * How long one admin request may take, in ms. 30 s: listing a page reads one key per route
 * shard plus one per session; far above that means the gateway or its store is stuck, and a
 * script should fail rather than hang.
 */
export const ADMIN_REQUEST_TIMEOUT_MS = 30_000;

/** A failure reported as one line; exitCode 2 for a usage or setup mistake, 1 for everything else. */
export class AdminError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
    this.name = 'AdminError';
  }
}

export interface AdminTarget {
  url: string;
  token: string;
}

export function adminTarget(flags: Flags, env: NodeJS.ProcessEnv): AdminTarget {
  const url = (flags.url as string | undefined) ?? env.BERTH_URL ?? DEFAULT_GATEWAY_URL;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AdminError(`the gateway URL ${JSON.stringify(url)} is not a URL (--url or BERTH_URL, e.g. ${DEFAULT_GATEWAY_URL})`, 2);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new AdminError(`the gateway URL must be http:// or https://, not ${parsed.protocol}`, 2);
  const token = (flags.token as string | undefined) ?? env.BERTH_ADMIN_TOKEN;
  if (!token) throw new AdminError('no admin token: pass --token or set BERTH_ADMIN_TOKEN', 2);
  return { url: url.replace(/\/+$/, ''), token };
}

/** One admin request; resolves the parsed JSON body of a 2xx, throws AdminError otherwise. */
export async function adminRequest<T>(target: AdminTarget, method: string, path: string, body?: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(target.url + path, {
      method,
      headers: { authorization: `Bearer ${target.token}`, accept: 'application/json, application/problem+json', ...(body !== undefined ? { 'content-type': 'text/plain' } : {}) },
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(ADMIN_REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new AdminError(`cannot reach the gateway at ${target.url}: ${reasonOf(error)} (set --url or BERTH_URL)`);
  }
  const text = await res.text();
  if (!res.ok) throw new AdminError(problemLine(res.status, text));
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new AdminError(`the gateway at ${target.url} answered ${res.status} with a body that is not JSON`);
  }
}

/** "403 forbidden: admin routes need an admin token" from a problem+json body (or the status alone). */
export function problemLine(status: number, text: string): string {
  let problem: { code?: unknown; title?: unknown; detail?: unknown } | undefined;
  try {
    problem = JSON.parse(text) as typeof problem;
  } catch {
    problem = undefined;
  }
  const code = typeof problem?.code === 'string' ? ` ${problem.code}` : '';
  const detail = typeof problem?.detail === 'string' ? problem.detail : typeof problem?.title === 'string' ? problem.title : 'no details';
  // One line whatever the server sent: control characters and newlines would break scripts' parsing.
  return `${status}${code}: ${detail.replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, 300)}`;
}

/** Runs an admin command body: an AdminError becomes one line on stderr and its exit code. */
export async function runAdmin(command: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof AdminError)) throw error;
    process.stderr.write(`berth ${command}: ${error.message}\n`);
    return error.exitCode;
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if ((error as Error).name === 'TimeoutError') return `no answer within ${ADMIN_REQUEST_TIMEOUT_MS / 1000} s`;
  return typeof cause?.message === 'string' ? cause.message : (error as Error).message;
}
