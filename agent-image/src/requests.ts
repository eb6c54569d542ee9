// Validates the small request bodies of agent API v2: a turn's start and an approval answer.
// Pure; messages name the field at fault. Neighbours: server.ts; bootstrap.ts does the bootstrap.

import type { ApprovalAnswer } from '@berth/protocol';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export type ParsedMessage = { kind: 'ok'; prompt: string; turn: number | undefined } | { kind: 'invalid'; detail: string };

/** `{prompt, turn}`; `turn` may be absent (a hand run: the agent numbers the turn itself, lastTurn + 1). */
export function parseMessageRequest(body: unknown): ParsedMessage {
  if (!isObject(body) || typeof body.prompt !== 'string' || body.prompt.length === 0) return { kind: 'invalid', detail: 'body must be {"prompt": non-empty string, "turn": integer ≥ 1}' };
  if (body.turn !== undefined && !(Number.isSafeInteger(body.turn) && (body.turn as number) >= 1)) return { kind: 'invalid', detail: 'turn must be an integer ≥ 1' };
  return { kind: 'ok', prompt: body.prompt, turn: body.turn as number | undefined };
}

export type ParsedAnswer = { kind: 'ok'; answer: ApprovalAnswer } | { kind: 'invalid'; detail: string };

export function parseApprovalAnswer(body: unknown): ParsedAnswer {
  const problems: string[] = [];
  if (!isObject(body)) return { kind: 'invalid', detail: 'body must be a JSON object' };
  if (body.decision !== 'allow' && body.decision !== 'deny') problems.push('decision must be "allow" or "deny"');
  if (body.message !== undefined && typeof body.message !== 'string') problems.push('message must be a string');
  if (body.updatedInput !== undefined && !isObject(body.updatedInput)) problems.push('updatedInput must be an object');
  if (body.updatedInput !== undefined && body.decision === 'deny') problems.push('updatedInput goes with decision "allow" only');
  if (problems.length > 0) return { kind: 'invalid', detail: problems.join('; ') };
  const answer: ApprovalAnswer = { decision: body.decision as ApprovalAnswer['decision'] };
  if (typeof body.message === 'string') answer.message = body.message;
  if (isObject(body.updatedInput)) answer.updatedInput = body.updatedInput;
  return { kind: 'ok', answer };
}
