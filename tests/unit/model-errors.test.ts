// The model proxy's own errors in the Messages API shape, with the retry advice the Anthropic
// SDKs obey (x-should-retry): a spent budget or a bad credential is final, a failing upstream or
// store is worth a retry. Pinned per code, since the SDK in a sandbox acts on exactly these.
import { expect, test } from 'vitest';
import { buildModelError, type ModelErrorCode } from '@berth/gateway/egress';
import { BUDGET_REFUSAL_TAG } from '@berth/protocol';

const cases: Array<[ModelErrorCode, number, string, 'true' | 'false']> = [
  ['not_found', 404, 'not_found_error', 'false'],
  ['unauthenticated', 401, 'authentication_error', 'false'],
  ['payload_too_large', 413, 'request_too_large', 'false'],
  ['budget_exhausted', 429, 'rate_limit_error', 'false'],
  ['upstream_unconfigured', 502, 'api_error', 'false'],
  ['upstream_failed', 502, 'api_error', 'true'],
  ['upstream_timeout', 504, 'timeout_error', 'true'],
  ['store_unavailable', 503, 'api_error', 'true'],
];

test.each(cases)('%s → %i %s, x-should-retry: %s', (code, status, type, retry) => {
  const error = buildModelError(code, { message: 'why', retryAfterS: 1 });
  expect(error.status).toBe(status);
  // A budget refusal carries the tag the agent turns into stopReason budget_reached.
  const tag = code === 'budget_exhausted' ? ` ${BUDGET_REFUSAL_TAG}` : '';
  expect(JSON.parse(error.body)).toEqual({ type: 'error', error: { type, message: `berth egress gateway: why${tag}` } });
  expect(error.headers).toMatchObject({ 'content-type': 'application/json', 'x-should-retry': retry });
  // retry-after only where a retry is advised: a budget window may be hours away.
  expect(error.headers['retry-after']).toBe(retry === 'true' ? '1' : undefined);
});

test('without a message, the registry title is the message', () => {
  expect(JSON.parse(buildModelError('upstream_timeout').body).error.message).toBe('berth egress gateway: Upstream timed out');
});
