// What a role needs beyond loadConfig's per-variable checks: settings that only make sense
// together with the roles a process runs. Reported all at once, before anything starts, as a
// ConfigError, which the CLI turns into exit code 2 like every other bad configuration.

import { modalOptionsFromEnv } from '@berth/orchestrator/modal';
import { ConfigError, type GatewayConfig } from '../config.js';

export interface Roles {
  ingress: boolean;
  egress: boolean;
}

export function roleProblems(config: Readonly<GatewayConfig>, roles: Roles, env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (!roles.ingress && !roles.egress) problems.push('no role to run: choose ingress, egress or both');
  if (!(roles.ingress && roles.egress) && !config.credentialKeys) {
    problems.push('BERTH_CREDENTIAL_KEYS is required when ingress and egress run as separate processes (both must share the signing keys)');
  }
  if (roles.ingress && !roles.egress && !config.egressPublicUrl) {
    problems.push('BERTH_EGRESS_PUBLIC_URL is required when the egress role runs elsewhere (sandboxes must reach it)');
  }
  if (roles.ingress && config.backend === 'modal') problems.push(...modalOptionsFromEnv(env).problems);
  return problems;
}

/** Throws one ConfigError naming every problem; returns when the roles can start. */
export function assertRolesConfigured(config: Readonly<GatewayConfig>, roles: Roles, env: Record<string, string | undefined>): void {
  const problems = roleProblems(config, roles, env);
  if (problems.length > 0) throw new ConfigError(problems);
}
