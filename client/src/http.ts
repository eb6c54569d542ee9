// The client's HTTP edge: builds URLs under the base URL, adds the bearer token, sends with the
// configured fetch, and turns every failure into a BerthApiError (errors.ts). JSON calls read
// the body here; streaming calls take the Response and read it in event-stream.ts.

import { BerthApiError, errorFromResponse, networkError } from './errors.js';

export type TokenSource = string | (() => string | Promise<string>);

export interface Transport {
  baseUrl: string;
  token: TokenSource;
  fetch: typeof globalThis.fetch;
  headers: Record<string, string>;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (YAML for the tenants check). */
  text?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Sends one request and returns the answer, any status; throws only when no answer came. */
export async function send(transport: Transport, spec: RequestSpec): Promise<Response> {
  const url = buildUrl(transport.baseUrl, spec.path, spec.query);
  const token = typeof transport.token === 'function' ? await transport.token() : transport.token;
  const headers: Record<string, string> = { ...transport.headers, authorization: `Bearer ${token}`, ...spec.headers };
  let body: string | undefined;
  if (spec.json !== undefined) {
    body = JSON.stringify(spec.json);
    headers['content-type'] = 'application/json';
  } else if (spec.text !== undefined) {
    body = spec.text;
    headers['content-type'] = 'text/plain; charset=utf-8';
  }
  try {
    const fetchImpl = transport.fetch;
    return await fetchImpl(url, { method: spec.method, headers, ...(body !== undefined ? { body } : {}), ...(spec.signal ? { signal: spec.signal } : {}) });
  } catch (error) {
    // A caller's abort is not a failure of berth: it surfaces as the signal's reason, like fetch.
    if (spec.signal?.aborted) throw spec.signal.reason;
    throw networkError(error, `${spec.method} ${spec.path}`);
  }
}

/** Sends one request and returns its JSON body; a non-2xx answer throws its problem. */
export async function requestJson<T>(transport: Transport, spec: RequestSpec): Promise<T> {
  const res = await send(transport, { ...spec, headers: { accept: 'application/json', ...spec.headers } });
  if (!res.ok) throw await errorFromResponse(res);
  let text: string;
  try {
    text = await res.text();
  } catch (error) {
    if (spec.signal?.aborted) throw spec.signal.reason;
    throw networkError(error, `${spec.method} ${spec.path}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new BerthApiError({ status: res.status, code: 'unexpected_response', title: 'The answer is not JSON', detail: text.slice(0, 200), cause: error });
  }
}

export function buildUrl(baseUrl: string, path: string, query: RequestSpec['query'] = {}): string {
  const url = new URL(baseUrl.replace(/\/+$/, '') + path);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  return url.toString();
}

/** A session id or request id as one path segment. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
