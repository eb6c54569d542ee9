#!/usr/bin/env node
// The berth command. `start` runs the whole stack locally; `gateway` runs the ingress and/or
// egress roles from the environment (containers); `token` mints and revokes tokens.
// `sessions`, `pool`, `usage` talk to a running gateway's admin API; `tenants check` is offline.
// Arguments are parsed here, once, against command-specs.ts; a command gets parsed flags.

import { createRequire } from 'node:module';
import { COMMANDS, commandHelp, mainHelp, usageLine, type CommandSpec } from './command-specs.js';
import { parseCommand, UsageError, type Flags } from './flags.js';
import { CommandError } from './command-error.js';

type Command = (flags: Flags) => Promise<number>;

// Each command is loaded when it runs: `start` and `gateway` pull in the whole stack (seconds
// on a busy machine), which an admin query like `berth pool` or any --help must not wait for.
const commands: Record<string, Command> = {
  start: async (flags) => (await import('./commands/start.js')).startCommand(flags),
  gateway: async (flags) => (await import('./commands/gateway.js')).gatewayCommand(flags),
  token: async (flags) => (await import('./commands/token.js')).tokenCommand(flags),
  sessions: async (flags) => (await import('./commands/sessions.js')).sessionsCommand(flags),
  pool: async (flags) => (await import('./commands/pool.js')).poolCommand(flags),
  usage: async (flags) => (await import('./commands/usage.js')).usageCommand(flags),
  tenants: async (flags) => (await import('./commands/tenants.js')).tenantsCommand(flags),
};

function version(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    process.stdout.write(mainHelp());
    return 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`berth ${version()}\n`);
    return 0;
  }
  // `berth help sessions` = `berth sessions --help`.
  const spec: CommandSpec | undefined = COMMANDS.find((c) => c.name === (name === 'help' ? rest[0] : name));
  if (!spec) {
    process.stderr.write(`berth: unknown command ${JSON.stringify(name === 'help' ? rest[0] : name)}\n${mainHelp()}`);
    return 2;
  }
  let flags: Flags;
  try {
    const parsed = name === 'help' ? ({ kind: 'help' } as const) : parseCommand(spec, rest);
    if (parsed.kind === 'help') {
      process.stdout.write(commandHelp(spec));
      return 0;
    }
    flags = parsed.flags;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`berth ${spec.name}: ${error.message}\n${usageLine(spec)}\n`);
    return 2;
  }
  try {
    return await commands[spec.name]!(flags);
  } catch (error) {
    if (error instanceof CommandError) {
      process.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    // A configuration the roles refuse at start (roleProblems) exits 2, like one loadConfig refuses.
    // The gateway package is loaded here, on the error path only: see the commands map above.
    if (error instanceof (await import('@berth/gateway')).ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`berth ${spec.name}: ${error.message}\n${usageLine(spec)}\n`);
      return 2;
    }
    process.stderr.write(`berth ${spec.name}: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
