// Pins the whole problem registry: a change here is a deliberate change of the caller contract.
import { describe, expect, test } from 'vitest';
import { BerthError, PROBLEMS, problemBody, problemType, isProblemCode } from '@berth/protocol';

describe('problem registry', () => {
  test('the whole list of codes, statuses and type URIs', () => {
    const pinned = Object.fromEntries(Object.entries(PROBLEMS).map(([code, p]) => [code, [p.status, problemType(code as keyof typeof PROBLEMS)]]));
    expect(pinned).toEqual({
      invalid_session_id: [400, 'https://berth.dev/problems/invalid-session-id'],
      invalid_body: [400, 'https://berth.dev/problems/invalid-body'],
      unauthenticated: [401, 'https://berth.dev/problems/unauthenticated'],
      forbidden: [403, 'https://berth.dev/problems/forbidden'],
      egress_denied: [403, 'https://berth.dev/problems/egress-denied'],
      not_found: [404, 'https://berth.dev/problems/not-found'],
      session_not_found: [404, 'https://berth.dev/problems/session-not-found'],
      turn_not_found: [404, 'https://berth.dev/problems/turn-not-found'],
      approval_not_found: [404, 'https://berth.dev/problems/approval-not-found'],
      method_not_allowed: [405, 'https://berth.dev/problems/method-not-allowed'],
      proxy_auth_required: [407, 'https://berth.dev/problems/proxy-auth-required'],
      request_timeout: [408, 'https://berth.dev/problems/request-timeout'],
      turn_in_progress: [409, 'https://berth.dev/problems/turn-in-progress'],
      not_bootstrapped: [409, 'https://berth.dev/problems/not-bootstrapped'],
      already_bootstrapped: [409, 'https://berth.dev/problems/already-bootstrapped'],
      replay_gap: [410, 'https://berth.dev/problems/replay-gap'],
      payload_too_large: [413, 'https://berth.dev/problems/payload-too-large'],
      unsupported_media_type: [415, 'https://berth.dev/problems/unsupported-media-type'],
      rate_limited: [429, 'https://berth.dev/problems/rate-limited'],
      quota_exceeded: [429, 'https://berth.dev/problems/quota-exceeded'],
      budget_exhausted: [429, 'https://berth.dev/problems/budget-exhausted'],
      headers_too_large: [431, 'https://berth.dev/problems/headers-too-large'],
      internal: [500, 'https://berth.dev/problems/internal'],
      sandbox_failed: [502, 'https://berth.dev/problems/sandbox-failed'],
      upstream_failed: [502, 'https://berth.dev/problems/upstream-failed'],
      backend_unavailable: [503, 'https://berth.dev/problems/backend-unavailable'],
      store_unavailable: [503, 'https://berth.dev/problems/store-unavailable'],
      draining: [503, 'https://berth.dev/problems/draining'],
      upstream_timeout: [504, 'https://berth.dev/problems/upstream-timeout'],
    });
  });

  test('every title is set and every type is unique', () => {
    const types = Object.keys(PROBLEMS).map((c) => problemType(c as keyof typeof PROBLEMS));
    expect(new Set(types).size).toBe(types.length);
    for (const p of Object.values(PROBLEMS)) expect(p.title.length).toBeGreaterThan(5);
  });

  test('problemBody carries type, title, status, code and detail; extensions cannot override them', () => {
    const body = problemBody('turn_in_progress', 'wait', { status: 200, instance: '/x' });
    expect(body).toEqual({ type: 'https://berth.dev/problems/turn-in-progress', title: PROBLEMS.turn_in_progress.title, status: 409, code: 'turn_in_progress', detail: 'wait', instance: '/x' });
  });

  test('BerthError carries its code, status and Retry-After', () => {
    const error = new BerthError('rate_limited', 'slow down', { retryAfterS: 3 });
    expect([error.code, error.status, error.retryAfterS, error.message]).toEqual(['rate_limited', 429, 3, 'slow down']);
    expect(isProblemCode('rate_limited')).toBe(true);
    expect(isProblemCode('toString')).toBe(false);
  });
});
