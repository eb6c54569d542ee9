// Parses one command's arguments with node:util parseArgs against its declared spec
// (command-specs.ts). Strict: an unknown flag, a missing value or a value given to a boolean is a
// usage error, never a silent default (a typo must not start a default stack). `--help`/`-h`
// is an outcome, not an error: the caller prints the help generated from the same spec.

import { parseArgs } from 'node:util';
import { COMMON_OPTIONS, type CommandSpec } from './command-specs.js';

export type Flags = Record<string, string | boolean | undefined> & { _: string[] };

export class UsageError extends Error {}

export type Parsed = { kind: 'help' } | { kind: 'flags'; flags: Flags };

export function parseCommand(spec: CommandSpec, argv: string[]): Parsed {
  const options = Object.fromEntries(
    Object.entries({ ...spec.options, ...COMMON_OPTIONS }).map(([name, o]) => [name, o.short ? { type: o.type, short: o.short } : { type: o.type }]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(usageMessage(error as Error & { code?: string }));
  }
  if (parsed.values.help === true) return { kind: 'help' };
  if (spec.forms.length === 0 && parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
  const flags = { _: parsed.positionals } as Flags;
  for (const [name, value] of Object.entries(parsed.values)) {
    // parseArgs gives the last occurrence of a repeated flag; string values are plain strings here (no `multiple`).
    if (name !== 'help') flags[name] = value as string | boolean;
  }
  return { kind: 'flags', flags };
}

/** parseArgs' messages, in berth's words ("unknown flag --x", "--url needs a value"). */
function usageMessage(error: Error & { code?: string }): string {
  const flag = /'(-{1,2}[^' ]+)/.exec(error.message)?.[1];
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${flag ?? error.message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(error.message)) return `${flag} takes no value`;
      return `${flag} needs a value${/ambiguous/.test(error.message) ? ` (one that starts with "-" goes as ${flag}=VALUE)` : ''}`;
    default:
      return error.message;
  }
}
