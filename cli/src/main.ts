#!/usr/bin/env node
// The berth command. `start` runs the whole stack locally; `gateway` runs the ingress and/or
// egress roles from the environment (containers); `token` mints and revokes tenant tokens.
// `sessions`, `pool`, `usage` talk to a running gateway's admin API; `tenants check` is offline.

import { UsageError } from './flags.js';
import { CommandError } from './run-support.js';

const USAGE = `usage: berth <command>
  start [--offline-model] [--redis URL] [--backend local|kubernetes|modal] [--kubeconfig F] [--port N] [--pool-size N]
                                                                                        run berth on this machine
  gateway [--ingress-only | --egress-only]                                              run the gateway from BERTH_* env (containers)
  token mint <tenant> | token <tenant> | token revoke <token>                           mint or revoke a tenant token (tenants file)
  sessions list [--tenant T] [--all] | sessions show <id> | sessions delete <id>       every tenant's sessions (admin API)
  pool                                                                                 warm pools per profile (admin API)
  usage [--tenant T]                                                                   model tokens per tenant or session (admin API)
  tenants check FILE [--remote]                                                        validate a tenants file (offline by default)
admin API commands: --url URL (BERTH_URL, default http://127.0.0.1:8080), --token T (BERTH_ADMIN_TOKEN), --json
`;

// Each command is loaded when it runs: `start` and `gateway` pull in the whole stack (seconds
// on a busy machine), which an admin query like `berth pool` must not wait for.
const commands: Record<string, (argv: string[]) => Promise<number>> = {
  start: async (argv) => (await import('./commands/start.js')).startCommand(argv),
  gateway: async (argv) => (await import('./commands/gateway.js')).gatewayCommand(argv),
  token: async (argv) => (await import('./commands/token.js')).tokenCommand(argv),
  sessions: async (argv) => (await import('./commands/sessions.js')).sessionsCommand(argv),
  pool: async (argv) => (await import('./commands/pool.js')).poolCommand(argv),
  usage: async (argv) => (await import('./commands/usage.js')).usageCommand(argv),
  tenants: async (argv) => (await import('./commands/tenants.js')).tenantsCommand(argv),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    process.stderr.write(USAGE);
    return name === undefined || name === 'help' || name === '--help' ? 0 : 2;
  }
  try {
    return await command(rest);
  } catch (error) {
    if (error instanceof CommandError) {
      process.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`berth ${name}: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
