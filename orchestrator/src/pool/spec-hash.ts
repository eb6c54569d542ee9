// The spec hash every backend stamps on a standby: what it was built from (profile, image, agent
// environment, and platform-specific definition fields), so that after an upgrade standbys built
// from an older definition can be told apart and replaced gradually. Kubernetes carries it as
// the `berth.dev/spec-hash` pod label, Modal as the `berth-spec-hash` tag and in the standby
// registry's record. Pure; no backend imports it through anything but this file.

import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so the same definition always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * 16 hex chars of SHA-256 over the profile (pool size excluded: resizing a pool changes no
 * standby), the image the sandbox runs and the agent's environment, plus `platform`: fields of
 * the backend's own definition that are not in the profile (Modal: command, port, lifetime,
 * network lock). Per-sandbox fields (name, slot, token, tags) must not be passed. Without
 * `platform` the value is the one Kubernetes pods have always carried.
 */
export function specHash(
  profile: { poolSize?: number } & Record<string, unknown>,
  image: string,
  env: Record<string, string> | undefined,
  platform?: Record<string, unknown>,
): string {
  const { poolSize: _poolSize, ...definition } = profile;
  return createHash('sha256').update(canonical({ definition, image, env: env ?? {}, platform })).digest('hex').slice(0, 16);
}
