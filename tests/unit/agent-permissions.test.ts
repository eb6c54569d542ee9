// The agent's permission policy (agent-image/src/permissions.ts), approvals (approvals.ts) and
// request parsing (requests.ts, bootstrap.ts): first match wins, `*` patterns, the hook's
// answers, one approval_resolved per request whatever settles it, and bad bodies named.
import { afterEach, expect, test, vi } from 'vitest';
import { decideTool, permissionCallbacks } from '@berth/agent-image/testing';
import { Approvals } from '@berth/agent-image/testing';
import { parseApprovalAnswer, parseMessageRequest } from '@berth/agent-image/testing';
import { parseBootstrap } from '@berth/agent-image/testing';

afterEach(() => void vi.useRealTimers());

test('policy: first matching rule wins, * matches any run, regex characters are literal, default allow', () => {
  const policy = { rules: [{ tool: 'Bash', decision: 'ask' as const }, { tool: 'mcp__*', decision: 'deny' as const }, { tool: '*', decision: 'allow' as const }] };
  expect(decideTool(policy, 'Bash')).toBe('ask');
  expect(decideTool(policy, 'mcp__github__create_issue')).toBe('deny');
  expect(decideTool(policy, 'Read')).toBe('allow');
  expect(decideTool({ rules: [{ tool: 'Ba.h', decision: 'deny' }] }, 'Bash')).toBe('allow');
  expect(decideTool({ default: 'ask' }, 'Write')).toBe('ask');
  expect(decideTool({}, 'Write')).toBe('allow');
});

test('the hook turns deny into deny and ask into ask (so canUseTool is asked); allow leaves the CLI its checks', async () => {
  const asked: string[] = [];
  const { hooks, canUseTool } = permissionCallbacks({ default: 'allow', rules: [{ tool: 'Bash', decision: 'ask' }, { tool: 'Write', decision: 'deny' }] }, async (tool) => {
    asked.push(tool);
    return { behavior: 'allow', updatedInput: { edited: true } };
  });
  const hook = hooks.PreToolUse![0]!.hooks[0]!;
  const signal = new AbortController().signal;
  const run = (tool: string) => hook({ hook_event_name: 'PreToolUse', tool_name: tool, tool_input: {} } as never, 'toolu_1', { signal });
  expect(await run('Bash')).toMatchObject({ hookSpecificOutput: { permissionDecision: 'ask' } });
  expect(await run('Write')).toMatchObject({ hookSpecificOutput: { permissionDecision: 'deny' } });
  expect(await run('Read')).toEqual({});
  const options = { signal, toolUseID: 'toolu_1' } as never;
  expect(await canUseTool('Bash', { command: 'x' }, options)).toEqual({ behavior: 'allow', updatedInput: { edited: true } });
  expect(await canUseTool('Write', {}, options)).toMatchObject({ behavior: 'deny' });
  expect(await canUseTool('Read', { file_path: '/a' }, options)).toEqual({ behavior: 'allow', updatedInput: { file_path: '/a' } });
  expect(asked).toEqual(['Bash']);
});

test('approvals: answer, edited input, timeout and stop each settle once with one approval_resolved', async () => {
  vi.useFakeTimers();
  const frames: Array<[string, Record<string, unknown>]> = [];
  const approvals = new Approvals((event, data) => (frames.push([event, data as never]), true), 5);
  const signal = new AbortController().signal;
  const requestId = (n: number): string => frames.filter(([e]) => e === 'approval_request')[n]![1].requestId as string;

  const edited = approvals.ask('Bash', { command: 'rm -rf /' }, signal);
  expect(approvals.answer(requestId(0), { decision: 'allow', updatedInput: { command: 'echo safe' } })).toBe('resolved');
  expect(await edited).toEqual({ behavior: 'allow', updatedInput: { command: 'echo safe' } });
  expect(approvals.answer(requestId(0), { decision: 'deny' })).toBe('not_found');

  const plain = approvals.ask('Bash', { command: 'ls' }, signal);
  approvals.answer(requestId(1), { decision: 'allow' });
  expect(await plain).toEqual({ behavior: 'allow', updatedInput: { command: 'ls' } });

  const timedOut = approvals.ask('Bash', { command: 'ls' }, signal);
  await vi.advanceTimersByTimeAsync(5000);
  expect(await timedOut).toMatchObject({ behavior: 'deny', message: 'no answer within 5 s: denied' });
  expect(approvals.answer(requestId(2), { decision: 'allow' })).toBe('not_found');

  const stopped = approvals.ask('Bash', {}, signal);
  approvals.denyAll('the turn was interrupted', true);
  expect(await stopped).toEqual({ behavior: 'deny', message: 'the turn was interrupted', interrupt: true });

  const resolved = frames.filter(([e]) => e === 'approval_resolved').map(([, d]) => [d.decision, d.by]);
  expect(resolved).toEqual([['allow', 'caller'], ['allow', 'caller'], ['deny', 'timeout'], ['deny', 'policy']]);
  expect(approvals.waiting).toBe(0);
});

test('an ask whose request frame cannot be sent is denied at once', async () => {
  const approvals = new Approvals(() => false, 300);
  expect(await approvals.ask('Bash', {}, new AbortController().signal)).toMatchObject({ behavior: 'deny' });
  expect(approvals.waiting).toBe(0);
});

test('request bodies: message {prompt, turn?}, approval answers, and the v2 profile fields', () => {
  expect(parseMessageRequest({ prompt: 'hi', turn: 4 })).toEqual({ kind: 'ok', prompt: 'hi', turn: 4 });
  expect(parseMessageRequest({ prompt: 'hi' })).toEqual({ kind: 'ok', prompt: 'hi', turn: undefined });
  for (const bad of [{ prompt: '' }, { prompt: 'x', turn: 0 }, { prompt: 'x', turn: 1.5 }, { prompt: 'x', turn: '2' }]) expect(parseMessageRequest(bad).kind).toBe('invalid');
  expect(parseApprovalAnswer({ decision: 'allow', updatedInput: { command: 'ls' } })).toEqual({ kind: 'ok', answer: { decision: 'allow', updatedInput: { command: 'ls' } } });
  expect(parseApprovalAnswer({ decision: 'deny', message: 'no' })).toEqual({ kind: 'ok', answer: { decision: 'deny', message: 'no' } });
  const bad = parseApprovalAnswer({ decision: 'maybe', message: 3, updatedInput: [] });
  expect(bad.kind === 'invalid' && bad.detail.split('; ')).toHaveLength(3);
  const base = { sessionId: 's', tenant: 't', model: { baseUrl: 'http://127.0.0.1:1', apiKey: 'k' } };
  expect(parseBootstrap({ ...base, profile: { permissions: { default: 'ask', rules: [{ tool: 'Bash', decision: 'deny' }] }, approvalTimeoutS: 1.5, turnTimeoutS: 60, maxFramesPerTurn: 10, maxFrameBytes: 4096 } }).kind).toBe('ok');
  const invalid = parseBootstrap({ ...base, profile: { permissions: { rules: [{ tool: 'Bash', decision: 'maybe' }] }, approvalTimeoutS: 0, turnTimeoutS: -1, maxFramesPerTurn: 1, maxFrameBytes: 'x' } });
  expect(invalid.kind === 'invalid' && invalid.detail.split('; ').map((p) => p.split(' ')[0])).toEqual(['profile.permissions', 'profile.approvalTimeoutS', 'profile.turnTimeoutS', 'profile.maxFramesPerTurn', 'profile.maxFrameBytes']);
});
