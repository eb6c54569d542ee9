// The agent server's configuration: every BERTH_AGENT_* variable, parsed once and validated
// together (all errors reported at once; a present-but-invalid value never falls back).
// Pure, so it is tested without starting anything. Neighbours: main.ts (the only caller).

import { createHash } from 'node:crypto';
import type { AgentProfile } from '@berth/protocol';
import { profileProblems } from './bootstrap.js';

export interface AgentConfig {
  mode: 'serve' | 'run-once';
  /** BERTH_AGENT_HOST, default 0.0.0.0: a pod is reached on its pod IP. */
  host: string;
  /** BERTH_AGENT_PORT, default 8000; 0 picks a free port (local backend, tests). */
  port: number;
  /**
   * SHA-256 of the per-sandbox token every request must present, from AGENT_AUTH_TOKEN (hashed
   * here) or AGENT_AUTH_TOKEN_SHA256 (64 hex; Kubernetes pods hold only the hash). Null when
   * neither is set: the check is off (a developer running the server by hand).
   */
  authTokenSha256: Buffer | null;
  /** BERTH_AGENT_DATA_DIR; unset = a fresh temp dir, removed on exit. */
  dataDir: string | undefined;
  /** BERTH_AGENT_PRESTART, default 1: keep a CLI started ahead of each turn (saves ~0.3 s). */
  prestart: boolean;
  /**
   * BERTH_AGENT_STANDBY_PROFILE, JSON agent profile, default {}: the start settings (system
   * prompt, tools, max turns, policy presence, bypass) the standby's CLI is pre-started with
   * before any claim. A session whose profile has other start settings starts its CLI cold.
   */
  standbyProfile: AgentProfile;
  /**
   * BERTH_EGRESS_URL, the egress gateway as this sandbox reaches it (the same for every tenant);
   * unset: none. With it the standby's CLI starts with its model endpoint and proxy already set,
   * under the sandbox's own egress key (standby.ts), so a claim applies no environment to it.
   */
  egressUrl: string | undefined;
  /** BERTH_AGENT_MAX_RETRIES → CLAUDE_CODE_MAX_RETRIES; unset keeps the CLI default (10). */
  maxRetries: number | undefined;
  /** BERTH_AGENT_MAX_BODY_BYTES, default 256 KiB: far above any typed prompt, small enough to refuse abuse. */
  maxBodyBytes: number;
  /**
   * BERTH_AGENT_MAX_BUFFERED_BYTES, default 64 MiB: frame data kept per turn for re-attach (the
   * running and the last turn, so twice this at most). A reader that falls further behind gets
   * replay_gap; the gateway stores frames as they come, so it only matters after a long cut.
   */
  maxBufferedBytes: number;
}

function tokenDigest(env: Record<string, string | undefined>, errors: string[]): Buffer | null {
  if (env.AGENT_AUTH_TOKEN) return createHash('sha256').update(env.AGENT_AUTH_TOKEN).digest();
  const hex = env.AGENT_AUTH_TOKEN_SHA256;
  if (hex === undefined || hex === '') return null;
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    errors.push('AGENT_AUTH_TOKEN_SHA256 must be 64 hex digits');
    return null;
  }
  return Buffer.from(hex, 'hex');
}

export type ConfigResult = { ok: true; config: AgentConfig } | { ok: false; errors: string[] };

export function loadConfig(env: Record<string, string | undefined>, argv: string[] = []): ConfigResult {
  const errors: string[] = [];
  const int = (name: string, fallback: number | undefined, min: number, max: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) errors.push(`${name} must be an integer in ${min}..${max}`);
    return value;
  };
  const modeRaw = argv.includes('run-once') ? 'run-once' : (env.BERTH_AGENT_MODE ?? 'serve');
  if (modeRaw !== 'serve' && modeRaw !== 'run-once') errors.push('BERTH_AGENT_MODE must be serve or run-once');
  const prestartRaw = env.BERTH_AGENT_PRESTART ?? '1';
  if (prestartRaw !== '0' && prestartRaw !== '1') errors.push('BERTH_AGENT_PRESTART must be 0 or 1');
  let standbyProfile: AgentProfile = {};
  const rawStandby = env.BERTH_AGENT_STANDBY_PROFILE;
  if (rawStandby !== undefined && rawStandby !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawStandby);
    } catch {
      parsed = undefined;
    }
    const problems = profileProblems(parsed, 'BERTH_AGENT_STANDBY_PROFILE');
    if (problems.length > 0) errors.push(...problems);
    else standbyProfile = parsed as AgentProfile;
  }
  const egressUrl = env.BERTH_EGRESS_URL || undefined;
  if (egressUrl !== undefined && !isPlainHttpUrl(egressUrl)) errors.push('BERTH_EGRESS_URL must be an http(s) URL without credentials');
  const config: AgentConfig = {
    mode: modeRaw === 'run-once' ? 'run-once' : 'serve',
    host: env.BERTH_AGENT_HOST || '0.0.0.0',
    port: int('BERTH_AGENT_PORT', 8000, 0, 65535) ?? 8000,
    authTokenSha256: tokenDigest(env, errors),
    dataDir: env.BERTH_AGENT_DATA_DIR || undefined,
    prestart: prestartRaw !== '0',
    standbyProfile,
    egressUrl,
    maxRetries: int('BERTH_AGENT_MAX_RETRIES', undefined, 0, 100),
    maxBodyBytes: int('BERTH_AGENT_MAX_BODY_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024) ?? 256 * 1024,
    maxBufferedBytes: int('BERTH_AGENT_MAX_BUFFERED_BYTES', 64 * 1024 * 1024, 64 * 1024, 4 * 1024 * 1024 * 1024) ?? 64 * 1024 * 1024,
  };
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config: Object.freeze(config) };
}

function isPlainHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}
