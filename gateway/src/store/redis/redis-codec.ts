// Encoding between the store ports' values and what the Redis store keeps in Redis: session records
// as hash fields, usage as hash counters.
// Pure functions, no connection; the layout they write is described in redis-scripts.ts.

import type { SandboxBinding, SessionRecord } from '../session-records.js';
import { emptyUsage, type TokenUsage, type UsagePage, type UsageReport, type UsageSummary } from '../usage-ledger.js';

/** Hash field/value pairs of a new record (null fields are absent). */
export function encodeRecord(record: SessionRecord): string[] {
  const fields = [
    'id', record.id,
    'tenant', record.tenant,
    'profile', record.profile,
    'createdAt', String(record.createdAt),
    'lastActivityAt', String(record.lastActivityAt),
    'turns', String(record.turns),
  ];
  if (record.sdkSessionId !== null) fields.push('sdkSessionId', record.sdkSessionId);
  if (record.sandbox !== null) fields.push('sandbox', JSON.stringify(record.sandbox), 'sandboxId', record.sandbox.sandboxId);
  return fields;
}

/** A record from a flat HGETALL reply; null for an empty reply (absent record). */
export function decodeRecord(flat: unknown): SessionRecord | null {
  if (!Array.isArray(flat) || flat.length === 0) return null;
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), String(flat[i + 1]));
  const sandbox = fields.get('sandbox');
  return {
    id: fields.get('id') ?? '',
    tenant: fields.get('tenant') ?? '',
    profile: fields.get('profile') ?? '',
    sandbox: sandbox === undefined ? null : (JSON.parse(sandbox) as SessionRecord['sandbox']),
    sdkSessionId: fields.get('sdkSessionId') ?? null,
    createdAt: Number(fields.get('createdAt')),
    lastActivityAt: Number(fields.get('lastActivityAt')),
    turns: Number(fields.get('turns') ?? 0),
  };
}

/** The egress key hash of a record's `sandbox` field (binding JSON; '' or absent = unbound). */
export function egressKeyOfSandbox(sandboxJson: unknown): string | undefined {
  if (typeof sandboxJson !== 'string' || sandboxJson === '') return undefined;
  return (JSON.parse(sandboxJson) as SandboxBinding).egressKeySha256;
}

const COUNTERS = ['inputTokens', 'outputTokens', 'cacheCreationInputTokens', 'cacheReadInputTokens'] as const;

/** berthAddUsage's ARGV: the session, its 4 counters, and the ledger's TTL in ms ('' = none). */
export function usageArgs(sessionId: string, usage: TokenUsage, ttlMs?: number): string[] {
  return [sessionId, ...COUNTERS.map((name) => String(usage[name])), ttlMs === undefined ? '' : String(Math.max(1, Math.ceil(ttlMs)))];
}

/** Parses the usage hash: fields `tenant:<counter>` and `session:<id>:<counter>`. */
export function decodeUsage(flat: Record<string, string>): UsageReport {
  const report: UsageReport = { tenant: emptyUsage(), sessions: {} };
  for (const [field, raw] of Object.entries(flat)) {
    const value = Number(raw);
    const lastColon = field.lastIndexOf(':');
    const counter = field.slice(lastColon + 1) as keyof TokenUsage;
    if (!COUNTERS.includes(counter)) continue;
    if (field.startsWith('tenant:')) report.tenant[counter] = value;
    else if (field.startsWith('session:')) {
      const sessionId = field.slice('session:'.length, lastColon);
      (report.sessions[sessionId] ??= emptyUsage())[counter] = value;
    }
  }
  return report;
}

/** 4 counters from `reply` starting at `at` (a Lua script's strings or numbers). */
function countersAt(reply: Array<string | number>, at: number): TokenUsage {
  const usage = emptyUsage();
  COUNTERS.forEach((name, i) => (usage[name] = Number(reply[at + i])));
  return usage;
}

/** Parses berthUsageSummary's reply: 4 tenant counters, then the session count. */
export function decodeUsageSummary(reply: Array<string | number>): UsageSummary {
  return { tenant: countersAt(reply, 0), sessionCount: Number(reply[4]) };
}

/** Parses berthSessionUsage's reply: present (0|1), then the session's 4 counters. */
export function decodeSessionUsage(reply: Array<string | number>): TokenUsage | null {
  return Number(reply[0]) === 1 ? countersAt(reply, 1) : null;
}

/** Parses berthUsagePage's reply: 4 tenant counters, more (0|1), then id + 4 counters per session. */
export function decodeUsagePage(reply: string[]): UsagePage {
  const sessions: UsagePage['sessions'] = [];
  for (let at = 5; at + 4 < reply.length; at += 5) sessions.push({ sessionId: reply[at]!, usage: countersAt(reply, at + 1) });
  const more = reply[4] === '1';
  return { tenant: countersAt(reply, 0), sessions, next: more && sessions.length > 0 ? sessions[sessions.length - 1]!.sessionId : null };
}
