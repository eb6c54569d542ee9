// A small, strict flag parser for the berth command: `--name value`, `--name=value`, boolean
// `--flag`. Unknown flags are errors (a typo must not silently start a default stack).

export type FlagSpec = Record<string, 'boolean' | 'string'>;
export type Flags = Record<string, string | boolean | undefined> & { _: string[] };

export class UsageError extends Error {}

export function parseFlags(argv: string[], spec: FlagSpec): Flags {
  const flags = { _: [] as string[] } as Flags;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      flags._.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown flag --${name}`);
    if (kind === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
    } else {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      flags[name] = value;
    }
  }
  return flags;
}
