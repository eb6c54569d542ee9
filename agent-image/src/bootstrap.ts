// Validates a POST /bootstrap body into a BootstrapRequest. Pure; the messages name the field at
// fault and never echo values (the body carries the session credential).
// Neighbours: server.ts calls it once per sandbox.

import { isValidSessionId, type BootstrapRequest, type PermissionMode } from '@berth/protocol';

const PERMISSION_MODES: readonly PermissionMode[] = ['default', 'acceptEdits', 'bypassPermissions', 'plan', 'dontAsk'];

export type Parsed = { kind: 'ok'; request: BootstrapRequest } | { kind: 'invalid'; detail: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

export function parseBootstrap(body: unknown): Parsed {
  const problems: string[] = [];
  if (!isObject(body)) return { kind: 'invalid', detail: 'body must be a JSON object' };
  if (!isValidSessionId(body.sessionId)) problems.push('sessionId must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$');
  if (typeof body.tenant !== 'string' || body.tenant.length === 0) problems.push('tenant must be a non-empty string');
  problems.push(...profileProblems(body.profile, 'profile'));
  const model = body.model;
  if (!isObject(model) || !isHttpUrl(model.baseUrl) || typeof model.apiKey !== 'string' || model.apiKey.length === 0) {
    problems.push('model must be {baseUrl: http(s) URL, apiKey: non-empty string}');
  }
  const egress = body.egress;
  if (egress !== undefined && (!isObject(egress) || !isHttpUrl(egress.proxyUrl) || !isStringArray(egress.noProxy))) {
    problems.push('egress must be {proxyUrl: http(s) URL, noProxy: string[]}');
  }
  if (body.resumeSdkSessionId !== undefined && (typeof body.resumeSdkSessionId !== 'string' || body.resumeSdkSessionId.length === 0)) {
    problems.push('resumeSdkSessionId must be a non-empty string');
  }
  if (body.transcript !== undefined && !(Array.isArray(body.transcript) && body.transcript.every(isStoredEntry))) {
    problems.push('transcript must be an array of {sdkSessionId, subpath, entry: {type}}');
  }
  if (problems.length > 0) return { kind: 'invalid', detail: problems.join('; ') };
  return { kind: 'ok', request: body as unknown as BootstrapRequest };
}

/** Problems of an agent profile (bootstrap `profile`, BERTH_AGENT_STANDBY_PROFILE); `at` names it. */
export function profileProblems(profile: unknown, at: string): string[] {
  const problems: string[] = [];
  if (!isObject(profile)) return [`${at} must be an object`];
  if (profile.model !== undefined && typeof profile.model !== 'string') problems.push(`${at}.model must be a string`);
  if (profile.systemPrompt !== undefined && typeof profile.systemPrompt !== 'string') problems.push(`${at}.systemPrompt must be a string`);
  if (profile.allowedTools !== undefined && !isStringArray(profile.allowedTools)) problems.push(`${at}.allowedTools must be an array of strings`);
  if (profile.disallowedTools !== undefined && !isStringArray(profile.disallowedTools)) problems.push(`${at}.disallowedTools must be an array of strings`);
  if (profile.maxTurns !== undefined && !(Number.isInteger(profile.maxTurns) && (profile.maxTurns as number) > 0)) problems.push(`${at}.maxTurns must be a positive integer`);
  if (profile.permissionMode !== undefined && !PERMISSION_MODES.includes(profile.permissionMode as PermissionMode)) problems.push(`${at}.permissionMode must be one of ${PERMISSION_MODES.join(', ')}`);
  if (profile.permissions !== undefined && !isPolicy(profile.permissions)) problems.push(`${at}.permissions must be {default?: allow|deny|ask, rules?: [{tool: string, decision: allow|deny|ask}]}`);
  // Seconds become timers: above 24 days setTimeout would overflow, and no turn needs that.
  for (const name of ['approvalTimeoutS', 'turnTimeoutS'] as const) {
    const v = profile[name];
    if (v !== undefined && !(typeof v === 'number' && v > 0 && v <= 86_400 * 24)) problems.push(`${at}.${name} must be a number of seconds in (0, ${86_400 * 24}]`);
  }
  for (const name of ['maxFramesPerTurn', 'maxFrameBytes'] as const) {
    const v = profile[name];
    if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= 2)) problems.push(`${at}.${name} must be an integer ≥ 2`);
  }
  return problems;
}

const DECISIONS = ['allow', 'deny', 'ask'];

function isPolicy(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (value.default !== undefined && !DECISIONS.includes(value.default as string)) return false;
  if (value.rules === undefined) return true;
  return Array.isArray(value.rules) && value.rules.every((r) => isObject(r) && typeof r.tool === 'string' && r.tool.length > 0 && DECISIONS.includes(r.decision as string));
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function isStoredEntry(value: unknown): boolean {
  return isObject(value) && typeof value.sdkSessionId === 'string' && typeof value.subpath === 'string' && isObject(value.entry) && typeof value.entry.type === 'string';
}
