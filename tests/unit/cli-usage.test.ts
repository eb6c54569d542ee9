// The berth CLI's arguments: one declaration per command (command-specs.ts) drives both the
// parser (node:util parseArgs) and the usage/--help text, so every flag that parses is
// documented — including start's --egress-port, --tenants-file and --log-level, once missing.
import { describe, expect, test } from 'vitest';
import { COMMANDS, commandHelp, commandSpec, mainHelp, usageLine } from '@berth/cli/testing';
import { parseCommand, UsageError } from '@berth/cli/testing';

function usageError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('every command', () => {
  test.each(COMMANDS.map((c) => [c.name, c] as const))('%s: --help and -h are answered, and every declared flag parses and is in its help', (_name, spec) => {
    expect(parseCommand(spec, ['--help'])).toEqual({ kind: 'help' });
    expect(parseCommand(spec, ['-h'])).toEqual({ kind: 'help' });
    // --help wins over anything else on the line, even a flag missing its value.
    expect(parseCommand(spec, [...spec.forms.slice(0, 1), '--help'])).toEqual({ kind: 'help' });
    const help = commandHelp(spec);
    const line = usageLine(spec);
    expect(mainHelp()).toContain(`  ${spec.name} `);
    for (const [name, option] of Object.entries(spec.options)) {
      expect(help).toContain(`--${name}`);
      expect(line).toContain(`[--${name}`);
      const argv = option.type === 'string' ? [`--${name}`, 'v1'] : [`--${name}`];
      const parsed = parseCommand({ ...spec, forms: ['x'] }, argv);
      expect(parsed).toEqual({ kind: 'flags', flags: { _: [], [name]: option.type === 'string' ? 'v1' : true } });
    }
  });
});

test('start documents the flags it always accepted', () => {
  const help = commandHelp(commandSpec('start'));
  for (const flag of ['--egress-port N', '--tenants-file FILE', '--log-level LEVEL', '--offline-model', '--pool-size N']) expect(help).toContain(flag);
  const parsed = parseCommand(commandSpec('start'), ['--egress-port=0', '--tenants-file', 't.yaml', '--log-level', 'debug']);
  expect(parsed).toEqual({ kind: 'flags', flags: { _: [], 'egress-port': '0', 'tenants-file': 't.yaml', 'log-level': 'debug' } });
});

test('token declares --admin, and its forms name the admin mint', () => {
  const spec = commandSpec('token');
  expect(usageLine(spec)).toMatch(/^usage: berth token mint <tenant> \| <tenant> \| mint --admin \| revoke <token\|sha256:hash> \[--admin\] \[--file FILE\]$/);
  expect(parseCommand(spec, ['mint', '--admin', '--file', 'f.yaml'])).toEqual({ kind: 'flags', flags: { _: ['mint'], admin: true, file: 'f.yaml' } });
});

describe('mistakes are usage errors in plain words', () => {
  const sessions = commandSpec('sessions');
  test.each([
    [['--tenat', 'alice'], 'unknown flag --tenat'],
    [['-x'], 'unknown flag -x'],
    [['list', '--tenant'], '--tenant needs a value'],
    [['list', '--tenant', '--all'], '--tenant needs a value (one that starts with "-" goes as --tenant=VALUE)'],
    [['list', '--all=yes'], '--all takes no value'],
  ])('%j → %s', (argv, message) => {
    expect(usageError(() => parseCommand(sessions, argv))).toBe(message);
  });

  test('a positional where a command takes none', () => {
    expect(usageError(() => parseCommand(commandSpec('pool'), ['extra']))).toBe('unexpected argument "extra"');
    expect(usageError(() => parseCommand(commandSpec('gateway'), ['--ingress-only', 'now']))).toBe('unexpected argument "now"');
  });

  test('a value starting with - is taken in the --flag=VALUE form', () => {
    expect(parseCommand(sessions, ['list', '--cursor=-abc'])).toEqual({ kind: 'flags', flags: { _: ['list'], cursor: '-abc' } });
  });
});
