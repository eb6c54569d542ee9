// Error mapping at the Modal adapter edge (orchestrator/src/backends/modal/modal-errors.ts) and
// the standby entry codec. Errors are built with the real `modal` classes and nice-grpc's
// ClientError, as the client throws them.
import { describe, expect, test } from 'vitest';
import { ClientError, Status } from 'nice-grpc-common';
import { NotFoundError, ResourceExhaustedError, SandboxTimeoutError, TimeoutError, InvalidError } from 'modal';
import { SandboxError } from '@berth/orchestrator';
import { isModalNotFound, toSandboxError } from '@berth/orchestrator/modal';
import { decodeStandbyData, encodeStandbyData } from '@berth/orchestrator/modal';

describe('toSandboxError', () => {
  test.each([
    [Status.NOT_FOUND, 'not_found'],
    [Status.RESOURCE_EXHAUSTED, 'capacity_exhausted'],
    [Status.UNAVAILABLE, 'unavailable'],
    [Status.INTERNAL, 'unavailable'],
    [Status.DEADLINE_EXCEEDED, 'timeout'],
    [Status.INVALID_ARGUMENT, 'start_failed'],
  ] as const)('gRPC %s → %s', (code, expected) => {
    const mapped = toSandboxError(new ClientError('/modal.client.ModalClient/SandboxCreateV2', code, 'details here'), 'sandbox create');
    expect(mapped).toBeInstanceOf(SandboxError);
    expect(mapped.code).toBe(expected);
    expect(mapped.message).toContain('sandbox create');
  });

  test('bad credentials say which variables to fix', () => {
    const mapped = toSandboxError(new ClientError('/x', Status.UNAUTHENTICATED, 'invalid token'), 'app lookup');
    expect(mapped.code).toBe('unavailable');
    expect(mapped.message).toContain('MODAL_TOKEN_ID');
  });

  test.each([
    [new NotFoundError("App 'x' not found"), 'not_found'],
    [new ResourceExhaustedError('Insufficient capacity to create sandbox.'), 'capacity_exhausted'],
    [new SandboxTimeoutError(), 'timeout'],
    [new TimeoutError(), 'timeout'],
    [new InvalidError('bad'), 'start_failed'],
  ] as const)('modal %s → %s', (error, expected) => {
    expect(toSandboxError(error, 'x').code).toBe(expected);
  });

  test('a SandboxError passes through unchanged; the cause is kept otherwise', () => {
    const original = new SandboxError('timeout', 'already mapped');
    expect(toSandboxError(original, 'x')).toBe(original);
    const cause = new ClientError('/x', Status.UNAVAILABLE, 'down');
    expect(toSandboxError(cause, 'x').cause).toBe(cause);
  });

  test('isModalNotFound', () => {
    expect(isModalNotFound(new ClientError('/x', Status.NOT_FOUND, 'gone'))).toBe(true);
    expect(isModalNotFound(new ClientError('/x', Status.UNAVAILABLE, 'down'))).toBe(false);
  });
});

describe('standby entry data', () => {
  test('round-trips, and entries of another format decode to null (they get recycled)', () => {
    const data = { url: 'https://sb.modal.host', authToken: 't', createdAtMs: 1, expiresAtMs: 2, specHash: '0123456789abcdef' };
    expect(decodeStandbyData(encodeStandbyData(data))).toEqual(data);
    // A record without a spec hash is outdated to every definition (replaced gradually), not unreadable.
    expect(decodeStandbyData('{"v":1,"url":"u","authToken":"t","createdAtMs":1,"expiresAtMs":2}')).toMatchObject({ specHash: '' });
    expect(decodeStandbyData('{"v":2}')).toBeNull();
    expect(decodeStandbyData('not json')).toBeNull();
  });
});
