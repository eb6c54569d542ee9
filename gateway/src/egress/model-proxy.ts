// The model API reverse proxy: the sandbox's ANTHROPIC_BASE_URL. Verifies the session credential
// (x-api-key or Authorization: Bearer), refuses a tenant over its token budget before any upstream
// call, swaps in the real key, streams the upstream answer back chunk by chunk, and meters the
// usage each response reports into the usage ledger exactly once. Neighbours: usage-meter.ts
// (parsing), budget.ts (window ledger), egress-server.ts (routing, upstream agent).
//
// Only the Messages API paths are proxied. Batches and files are refused on purpose: their
// tokens are billed outside any response this proxy sees, so they would escape metering. Its own
// refusals are Messages API errors with x-should-retry (model-errors.ts), what the SDK in the sandbox parses.

import { request as httpRequest, type Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { StoreUnavailableError } from '../store/store-unavailable.js';
import { checkBudget, recordUsage } from '../policy/budget.js';
import type { EgressContext } from './egress-context.js';
import { forwardHeaders } from './http-util.js';
import { sendModelError } from './model-errors.js';
import { UsageMeter, meterFormatFor } from './usage-meter.js';
import type { Store } from '../store/store.js';
import type { TokenBudget } from '../policy/budget.js';

export interface ModelProxyOptions {
  store: Pick<Store, 'usage'>;
  upstream: URL;
  /** The real key for a tenant (its own, or the global one); undefined = none configured. */
  realKeyFor: (tenant: string) => string | undefined;
  agent: Agent;
}

const ROUTES: ReadonlyArray<[method: string, path: RegExp, metered: boolean]> = [
  ['POST', /^\/v1\/messages$/, true],
  ['POST', /^\/v1\/messages\/count_tokens$/, false],
  ['GET', /^\/v1\/models(?:\/[A-Za-z0-9._:-]+)?$/, false],
];

// Credentials and encodings never cross: the real key replaces the sandbox's credential, and
// identity encoding keeps the body readable for metering.
const DROP = ['x-api-key', 'authorization', 'accept-encoding', 'cookie'];

export async function handleModel(ctx: EgressContext, options: ModelProxyOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const path = url.split('?')[0]!;
  // Security control: the path is matched as the upstream will read it. A dot segment, in any
  // spelling (`..`, `%2e%2E`), or an encoded slash would let `/v1/models/..` pass the route check
  // and reach the upstream as another path, with the real key.
  const route = isPlainPath(path) ? ROUTES.find(([method, pattern]) => method === req.method && pattern.test(path)) : undefined;
  if (!route) {
    ctx.metrics.decision('model', 'deny', 'not_found');
    return sendModelError(res, 'not_found', { message: 'only the Messages API is proxied (POST /v1/messages, /v1/messages/count_tokens, GET /v1/models)' });
  }
  const auth = await ctx.authenticate(req.headers, 'model', req.socket.remoteAddress);
  if (!auth.ok) {
    ctx.metrics.decision('model', 'deny', auth.reason);
    ctx.logger.info({ door: 'model', reason: auth.reason }, 'egress refused');
    if (auth.reason === 'store_unavailable') return sendModelError(res, 'store_unavailable', { retryAfterS: 1 });
    return sendModelError(res, 'unauthenticated', { message: 'a valid session credential is required (the session may have been deleted)' });
  }
  const { tenant, sessionId, policy } = auth.principal;
  const log = { door: 'model', tenant, session: sessionId, path };
  const budget = policy.tokenBudget;
  if (route[2] && budget) {
    let verdict;
    try {
      verdict = await checkBudget(options.store.usage, tenant, budget, ctx.now());
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      ctx.metrics.decision('model', 'error', 'store_unavailable');
      return sendModelError(res, 'store_unavailable', { retryAfterS: 1 });
    }
    if (!verdict.ok) {
      ctx.metrics.decision('model', 'deny', 'budget_exhausted');
      ctx.logger.info({ ...log, reason: 'budget_exhausted', usedTokens: verdict.usedTokens }, 'egress refused');
      // No retry-after: see model-errors.ts (an SDK would sleep until the window resets).
      return sendModelError(res, 'budget_exhausted', {
        message: `tenant ${tenant} has spent its model token budget (${verdict.usedTokens} of ${budget.tokens} tokens per ${budget.periodS} s); it renews in ${verdict.retryAfterS} s`,
      });
    }
  }
  const realKey = options.realKeyFor(tenant);
  if (!realKey) {
    ctx.metrics.decision('model', 'error', 'no_model_key');
    ctx.logger.error(log, 'no model API key configured for this tenant');
    return sendModelError(res, 'upstream_unconfigured', { message: 'no model API key is configured for this tenant' });
  }

  const target = new URL(options.upstream.pathname.replace(/\/$/, '') + url, options.upstream);
  // Re-checked after URL resolution: what goes upstream is exactly the base plus the vetted path.
  if (target.pathname !== options.upstream.pathname.replace(/\/$/, '') + path) {
    ctx.metrics.decision('model', 'deny', 'not_found');
    return sendModelError(res, 'not_found', { message: 'only the Messages API is proxied (POST /v1/messages, /v1/messages/count_tokens, GET /v1/models)' });
  }
  const headers = forwardHeaders(req.headers, DROP);
  headers['x-api-key'] = realKey;
  headers['accept-encoding'] = 'identity';
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const upstream = send(target, { method: req.method, headers, agent: options.agent, timeout: ctx.limits.modelIdleTimeoutMs });

  let sentBytes = 0;
  let tooLarge = false;
  req.on('data', (chunk: Buffer) => {
    sentBytes += chunk.length;
    if (sentBytes > ctx.limits.maxModelBodyBytes && !tooLarge) {
      tooLarge = true;
      req.unpipe(upstream);
      upstream.destroy();
      ctx.metrics.decision('model', 'deny', 'body_too_large');
      sendModelError(res, 'payload_too_large', { message: `model requests are limited to ${ctx.limits.maxModelBodyBytes} bytes` });
    }
  });
  req.pipe(upstream);
  upstream.on('timeout', () => upstream.destroy(new UpstreamTimeout()));
  upstream.on('error', (error) => {
    if (tooLarge) return;
    const timeout = error instanceof UpstreamTimeout;
    ctx.metrics.decision('model', 'error', timeout ? 'upstream_timeout' : 'upstream_failed');
    ctx.logger.warn({ ...log, err: error.message }, 'model upstream failed');
    sendModelError(res, timeout ? 'upstream_timeout' : 'upstream_failed');
  });
  // The caller went away: stop the upstream generation too (it is billed while it runs).
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  upstream.on('response', (answer) => relay(ctx, options, answer, res, { tenant, sessionId, budget, log, sentBytes: () => sentBytes }));
}

function relay(
  ctx: EgressContext,
  options: ModelProxyOptions,
  answer: IncomingMessage,
  res: ServerResponse,
  call: { tenant: string; sessionId: string; budget: TokenBudget | undefined; log: object; sentBytes: () => number },
): void {
  ctx.metrics.decision('model', 'allow', 'ok');
  const meter = new UsageMeter(meterFormatFor(answer.headers['content-type']));
  let receivedBytes = 0;
  let recorded = false;
  // Runs once per upstream response, on whichever of end / close / error comes first: a
  // response is metered exactly once, complete or cut off (see usage-meter.ts on retries).
  const record = () => {
    if (recorded) return;
    recorded = true;
    ctx.metrics.bytes('model', 'upstream', call.sentBytes());
    ctx.metrics.bytes('model', 'downstream', receivedBytes);
    if (meter.problem) ctx.logger.warn({ ...call.log, problem: meter.problem }, 'model response not fully metered');
    const usage = meter.result();
    if (!usage) return;
    ctx.metrics.tokens('input', usage.inputTokens);
    ctx.metrics.tokens('output', usage.outputTokens);
    ctx.metrics.tokens('cache_creation', usage.cacheCreationInputTokens);
    ctx.metrics.tokens('cache_read', usage.cacheReadInputTokens);
    recordUsage(options.store.usage, call.tenant, call.sessionId, usage, call.budget, ctx.now()).catch((error: unknown) => {
      ctx.logger.error({ ...call.log, err: error instanceof Error ? error.message : String(error) }, 'usage not recorded');
    });
  };
  res.writeHead(answer.statusCode ?? 502, forwardHeaders(answer.headers, ['set-cookie']));
  res.flushHeaders(); // the status line goes out now, not with the first body chunk
  answer.on('data', (chunk: Buffer) => {
    receivedBytes += chunk.length;
    meter.push(chunk);
  });
  answer.on('end', record);
  answer.on('close', record);
  answer.on('error', () => res.destroy());
  answer.pipe(res);
}

/** No dot segments and no encoded separators or dots: the path means what it spells. */
export function isPlainPath(path: string): boolean {
  if (/%2e|%2f|%5c|\\/i.test(path)) return false;
  return path.split('/').every((segment) => segment !== '.' && segment !== '..');
}

class UpstreamTimeout extends Error {
  constructor() {
    super('model upstream idle timeout');
  }
}
