// Every berth command's arguments, declared once: the parser (parse-command.ts, node:util
// parseArgs) reads them, and the usage and --help texts are generated from them, so a flag that
// works is a flag the help shows. Light on purpose: main.ts imports it to print usage without
// loading a command's module (start and gateway pull in the whole stack).

export interface OptionSpec {
  type: 'boolean' | 'string';
  /** Placeholder for the value in help text ("URL", "N"); string options only. */
  value?: string;
  short?: string;
  description: string;
}

export interface CommandSpec {
  name: string;
  /** One line for `berth --help`. */
  summary: string;
  /** The positional forms, e.g. ['list', 'show <id>']; [] when the command takes none. */
  forms: string[];
  options: Record<string, OptionSpec>;
  /** Lines after the options in `--help` (environment, examples). */
  notes?: string[];
}

/** What every admin API command accepts. */
export const ADMIN_OPTIONS: Record<string, OptionSpec> = {
  url: { type: 'string', value: 'URL', description: 'the gateway (env BERTH_URL, default http://127.0.0.1:8080)' },
  token: { type: 'string', value: 'T', description: 'an admin token (env BERTH_ADMIN_TOKEN)' },
  json: { type: 'boolean', description: "print the API's JSON instead of a table" },
};

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'start',
    summary: 'run berth on this machine (gateway, egress, local sandboxes with a warm pool)',
    forms: [],
    options: {
      'offline-model': { type: 'boolean', description: 'use the bundled offline model (deterministic echoes, no key, no network); the default when ANTHROPIC_API_KEY is unset' },
      redis: { type: 'string', value: 'URL', description: 'keep routes and quotas in Redis (BERTH_REDIS_URL; default in-process)' },
      backend: { type: 'string', value: 'local|kubernetes|modal', description: 'where sandboxes run (BERTH_BACKEND, default local)' },
      kubeconfig: { type: 'string', value: 'FILE', description: 'kubeconfig for --backend kubernetes (BERTH_KUBECONFIG)' },
      port: { type: 'string', value: 'N', description: 'ingress API port, 0 = any free (BERTH_PORT, default 8080)' },
      'egress-port': { type: 'string', value: 'N', description: 'egress gateway port, 0 = any free (BERTH_EGRESS_PORT)' },
      'pool-size': { type: 'string', value: 'N', description: 'warm standbys per profile (BERTH_POOL_SIZE)' },
      'tenants-file': { type: 'string', value: 'FILE', description: 'the tenants file, made with two demo tenants if missing (BERTH_TENANTS_FILE)' },
      'log-level': { type: 'string', value: 'LEVEL', description: 'pino level: fatal, error, warn, info, debug, trace (BERTH_LOG_LEVEL, default warn)' },
    },
    notes: ['Prints pool progress while the warm pool fills, then "berth is running" once a standby is ready. Ctrl-C stops everything.'],
  },
  {
    name: 'gateway',
    summary: 'run the gateway from BERTH_* environment variables (containers)',
    forms: [],
    options: {
      'ingress-only': { type: 'boolean', description: 'run the ingress API only' },
      'egress-only': { type: 'boolean', description: 'run the egress gateway only' },
    },
  },
  {
    name: 'token',
    summary: 'mint or revoke a token in the tenants file (printed once; only its hash is stored)',
    forms: ['mint <tenant>', '<tenant>', 'mint --admin', 'revoke <token|sha256:hash>'],
    options: {
      admin: { type: 'boolean', description: 'mint an admin token (admins.tokenHashes) instead of a tenant token' },
      file: { type: 'string', value: 'FILE', description: 'the tenants file (default BERTH_TENANTS_FILE or .berth/tenants.yaml)' },
    },
  },
  {
    name: 'sessions',
    summary: "every tenant's sessions (admin API)",
    forms: ['list', 'show <id>', 'delete <id>'],
    options: {
      tenant: { type: 'string', value: 'T', description: 'list: only this tenant' },
      limit: { type: 'string', value: 'N', description: 'list: sessions per page, 1 to 1000 (default 100)' },
      cursor: { type: 'string', value: 'CURSOR', description: 'list: the next page (the nextCursor a previous page printed)' },
      all: { type: 'boolean', description: 'list: every page' },
      ...ADMIN_OPTIONS,
    },
  },
  { name: 'pool', summary: 'warm pools per sandbox profile (admin API)', forms: [], options: { ...ADMIN_OPTIONS } },
  {
    name: 'usage',
    summary: 'model tokens per tenant, or per session of one tenant (admin API)',
    forms: [],
    options: { tenant: { type: 'string', value: 'T', description: 'one row per session of this tenant' }, ...ADMIN_OPTIONS },
  },
  {
    name: 'tenants',
    summary: 'validate a tenants file (offline by default)',
    forms: ['check FILE'],
    options: { remote: { type: 'boolean', description: 'ask a running gateway (also checks sandbox profiles)' }, ...ADMIN_OPTIONS },
  },
];

/** Options every command takes on top of its own. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export function commandSpec(name: string): CommandSpec {
  const spec = COMMANDS.find((c) => c.name === name);
  if (!spec) throw new Error(`no command spec named ${name}`);
  return spec;
}

/** "berth sessions list | show <id> | delete <id> [--tenant T] [--all] …": one line per command. */
export function usageLine(spec: CommandSpec): string {
  const forms = spec.forms.length > 0 ? ` ${spec.forms.join(' | ')}` : '';
  const flags = Object.entries(spec.options).map(([name, o]) => `[--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}]`);
  return `usage: berth ${spec.name}${forms}${flags.length > 0 ? ` ${flags.join(' ')}` : ''}`;
}

/** The full `berth <command> --help` text. */
export function commandHelp(spec: CommandSpec): string {
  const options = { ...spec.options, ...COMMON_OPTIONS };
  const left = (name: string, o: OptionSpec): string => `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
  const width = Math.max(...Object.entries(options).map(([n, o]) => left(n, o).length));
  const lines = [usageLine(spec), '', spec.summary, '', 'options:'];
  for (const [name, o] of Object.entries(options)) lines.push(`  ${left(name, o).padEnd(width)}  ${o.description}`);
  if (spec.notes) lines.push('', ...spec.notes);
  return lines.join('\n') + '\n';
}

/** The `berth --help` text: every command with its summary. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: berth <command> [options]      berth <command> --help for its options',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'options: -h, --help   this text;  -v, --version   the version',
    '',
  ].join('\n');
}
