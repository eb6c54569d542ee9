// berth's OpenAPI document (gateway/src/ingress/openapi/) is a valid OpenAPI 3.1 description, by
// a real validator (@readme/openapi-parser: the OpenAPI 3.1 JSON Schema plus its own rules: path
// parameters declared, operationIds unique, refs resolvable); its schemas compile under a strict
// ajv (what the integration test validates real answers with); and its problem types are the
// registry's, every one. Which routes the app serves, and the answers: openapi-contract.test.ts.

import { describe, expect, test } from 'vitest';
import { validate } from '@readme/openapi-parser';
import { PROBLEMS, problemType, type ProblemCode } from '@berth/protocol';
import { openApiDocument, openApiJson } from '@berth/gateway/openapi';
import { OpenApiChecker } from '../fixtures/openapi.js';

type ApiDocument = Exclude<Parameters<typeof validate>[0], string>;
/** A private copy: the validator may dereference what it is given in place. */
const fresh = (): ApiDocument => JSON.parse(openApiJson) as ApiDocument;

// The validator compiles the whole OpenAPI 3.1 schema (seconds on a busy two-core machine).
describe('the OpenAPI document', { timeout: 60_000 }, () => {
  const checker = new OpenApiChecker(openApiDocument);

  test('is a valid OpenAPI 3.1 document', async () => {
    const result = await validate(fresh(), { validate: { errors: { colorize: false } } });
    expect(result.valid ? [] : result.errors.map((e) => e.message)).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(openApiDocument.openapi).toMatch(/^3\.1\./);
  });

  test('the validator refuses a broken document (it is not a no-op)', async () => {
    const broken = fresh();
    delete (broken.paths as Record<string, { parameters?: unknown }>)['/sessions/{id}']!.parameters;
    const result = await validate(broken, { validate: { errors: { colorize: false } } });
    expect(result.valid).toBe(false);
  });

  test('is what GET /openapi.json serves, byte for byte a JSON serialisation of the typed object', () => {
    expect(JSON.parse(openApiJson)).toEqual(openApiDocument);
  });

  test('every component schema compiles under strict ajv (2020-12)', () => {
    for (const name of Object.keys(openApiDocument.components.schemas)) expect(() => checker.validator(name), name).not.toThrow();
  });

  test('the Problem schema names every registry code with its type URI, status and title, and refuses a mismatch', () => {
    const codes = Object.keys(PROBLEMS) as ProblemCode[];
    expect((openApiDocument.components.schemas['ProblemCode'] as { enum: string[] }).enum).toEqual(codes);
    for (const code of codes) {
      const problem = { type: problemType(code), title: PROBLEMS[code].title, status: PROBLEMS[code].status, code, detail: 'x' };
      expect(checker.errors('Problem', problem), code).toEqual([]);
    }
    expect(checker.errors('Problem', { type: problemType('forbidden'), title: PROBLEMS.session_not_found.title, status: 404, code: 'session_not_found' })).not.toEqual([]);
    expect(checker.errors('Problem', { type: problemType('internal'), title: 'Internal error', status: 500, code: 'no_such_code' })).not.toEqual([]);
  });

  test('each status has one problem response that carries exactly its codes', () => {
    const statuses = [...new Set(Object.values(PROBLEMS).map((p) => p.status))];
    for (const status of statuses) {
      const response = openApiDocument.components.responses[`Problem${status}`];
      const schema = response?.content?.['application/problem+json']?.schema as { properties: { code: { enum: string[] } } };
      const expected = Object.entries(PROBLEMS).filter(([, p]) => p.status === status).map(([code]) => code);
      expect(schema.properties.code.enum, String(status)).toEqual(expected);
    }
    expect(openApiDocument.components.responses['Problem405']?.headers?.['Allow']).toBeDefined();
    expect(openApiDocument.components.responses['Problem429']?.headers?.['Retry-After']).toBeDefined();
    expect(openApiDocument.components.responses['Problem503']?.headers?.['Retry-After']).toBeDefined();
  });

  test('SSE frames: each caller event has a frame schema; transcript frames are not part of the contract', () => {
    const frames: Array<[unknown, boolean]> = [
      [{ id: '1:0', event: 'turn', data: { sessionId: 's-1', turn: 1 } }, true],
      [{ id: '1:1', event: 'message', data: { type: 'system', subtype: 'init' } }, true],
      [{ id: '1:2', event: 'approval_request', data: { requestId: 'apr_1', tool: 'Bash', input: { command: 'ls' } } }, true],
      [{ id: '1:3', event: 'approval_resolved', data: { requestId: 'apr_1', decision: 'allow', by: 'caller' } }, true],
      [{ id: '1:4', event: 'done', data: { sessionId: 's-1', turn: 1, stopReason: 'end_turn' } }, true],
      [{ id: '1:4', event: 'error', data: { message: 'failed', code: 'turn_failed', stopReason: 'error:turn_failed' } }, true],
      [{ event: 'error', data: { message: 'shutting down', code: 'draining' } }, true],
      [{ id: '1:5', event: 'transcript', data: { sdkSessionId: 'x', subpath: '', entries: [] } }, false],
      [{ id: 'seven', event: 'message', data: { type: 'system' } }, false],
      [{ id: '1:1', event: 'done', data: { turn: 1 } }, false],
    ];
    for (const [frame, valid] of frames) expect(checker.errors('StreamFrame', frame).length === 0, JSON.stringify(frame)).toBe(valid);
  });
});
