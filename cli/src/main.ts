#!/usr/bin/env node
// The berth command. `start` runs the whole stack locally; `gateway` runs the ingress and/or
// egress roles from the environment (containers); `token` mints and revokes tenant tokens.

import { startCommand } from './commands/start.js';
import { gatewayCommand } from './commands/gateway.js';
import { tokenCommand } from './commands/token.js';
import { UsageError } from './flags.js';

const USAGE = `usage: berth <command>
  start [--offline-model] [--redis URL] [--backend local|kubernetes|modal] [--port N]   run berth on this machine
  gateway [--ingress-only | --egress-only]                                              run the gateway from BERTH_* env (containers)
  token <tenant> | token revoke <token>                                                 mint or revoke a tenant token
`;

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  start: startCommand,
  gateway: gatewayCommand,
  token: tokenCommand,
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
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`berth ${name}: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
