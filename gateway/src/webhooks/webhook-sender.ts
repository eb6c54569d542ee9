// Sends one webhook attempt: resolves and vets the endpoint's address (webhook-address.ts), signs
// the body per Standard Webhooks, POSTs it to the vetted address, and reports a small typed
// outcome. Neighbours: webhook-dispatcher.ts (decides ack, retry or drop from the outcome).
// It does not retry, follow redirects (a 3xx could point anywhere, past the address rules) or
// keep connections (one attempt per socket: receivers are many and rarely hit twice a second).
//
// Security controls: the whole attempt (resolution, connect, TLS, headers, body) is bounded by
// `timeoutMs`; at most MAX_RESPONSE_BYTES of the answer are read, then the socket is dropped, so
// a receiver can neither hold a dispatcher slot nor fill memory; the secret never leaves this
// module except inside the HMAC.

import http from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';
import type { Resolver } from '../policy/resolver.js';
import { resolveWebhookTarget } from './webhook-address.js';

export type SendOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'failed'; reason: 'status' | 'network' | 'timeout' | 'unresolved'; status?: number; detail: string }
  | { kind: 'refused'; detail: string };

export interface SendOptions {
  resolver: Resolver;
  allowPrivate: boolean;
  /** Bound on one whole attempt, in ms. */
  timeoutMs: number;
}

export interface WebhookMessage {
  id: string;
  url: string;
  secret: string;
  payload: string;
  /** The `webhook-timestamp`: when this attempt is sent (receivers reject stale ones). */
  sentAt: Date;
}

/** Response bytes read before the socket is dropped: enough for an error line, nothing more. */
export const MAX_RESPONSE_BYTES = 1024;

/** `signal` aborts the attempt (the dispatcher stopping); it then ends as a 'network' failure. */
export async function sendWebhook(message: WebhookMessage, options: SendOptions, signal?: AbortSignal): Promise<SendOutcome> {
  if (signal?.aborted) return { kind: 'failed', reason: 'network', detail: 'aborted' };
  const deadline = Date.now() + options.timeoutMs;
  const target = await resolveWebhookTarget(message.url, { resolver: options.resolver, allowPrivate: options.allowPrivate, timeoutMs: options.timeoutMs });
  if (target.kind === 'refused') return target;
  if (target.kind === 'unresolved') return { kind: 'failed', reason: 'unresolved', detail: target.detail };
  const signature = new Webhook(message.secret).sign(message.id, message.sentAt, message.payload);
  const body = Buffer.from(message.payload, 'utf8');
  const { url } = target;
  const request = (url.protocol === 'https:' ? https : http).request({
    host: target.address,
    family: target.family,
    port: target.port,
    method: 'POST',
    path: `${url.pathname}${url.search}`,
    agent: false,
    // TLS checks the certificate against the name in the URL, not the address dialled.
    ...(target.servername ? { servername: target.servername } : {}),
    headers: {
      host: url.host,
      'content-type': 'application/json',
      'content-length': body.length,
      'user-agent': 'berth-webhooks',
      'webhook-id': message.id,
      'webhook-timestamp': String(Math.floor(message.sentAt.getTime() / 1000)),
      'webhook-signature': signature,
    },
  });
  return await new Promise<SendOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: SendOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => finish({ kind: 'failed', reason: 'timeout', detail: `no complete answer within ${options.timeoutMs} ms` }),
      Math.max(1, deadline - Date.now()),
    );
    const onAbort = (): void => finish({ kind: 'failed', reason: 'network', detail: 'aborted' });
    signal?.addEventListener('abort', onAbort, { once: true });
    request.on('close', () => signal?.removeEventListener('abort', onAbort));
    request.on('error', (error: NodeJS.ErrnoException) => finish({ kind: 'failed', reason: 'network', detail: error.code ?? error.message }));
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const outcome: SendOutcome = status >= 200 && status < 300
        ? { kind: 'delivered', status }
        : { kind: 'failed', reason: 'status', status, detail: `the receiver answered ${status}` };
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) finish(outcome);
      });
      response.on('end', () => finish(outcome));
      response.on('error', () => finish(outcome));
      response.on('close', () => finish(outcome));
    });
    request.end(body);
  });
}
