// The one JSON Schema of the tenants file (BERTH_TENANTS_FILE). Three readers use it: the
// gateway's loader (tenants-file.ts, through ajv), `berth tenants check` (the same loader), and
// the Helm chart, whose values.schema.json carries a copy under tenants.config (a test pins the
// copy equal; `node deploy/sync-tenants-schema.mjs` rewrites it). Unknown keys are refused at
// every level: a misspelled `limits` must not leave a tenant unlimited.
//
// What a schema cannot say (allowlist entries' grammar, a token hash used twice, webhook URLs
// that parse) is checked in code after it (tenants-semantics.ts). Kept to draft-07 without $ref
// so the subtree means the same inside the chart's schema as on its own. `description` doubles
// as the problem text for a value that fails a pattern (tenants-problems.ts), so it says what
// the value must be and never echoes it.

/** "sha256:<64 lowercase hex>": the stored form of a bearer token (tenants-file.ts hashToken). */
export const TOKEN_HASH_PATTERN = '^sha256:[0-9a-f]{64}$';
export const TENANT_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,62}$';
/** A Standard Webhooks signing secret: "whsec_" + base64 of the key bytes. */
export const WEBHOOK_SECRET_PATTERN = '^whsec_[A-Za-z0-9+/]+={0,2}$';
export const WEBHOOK_EVENTS = ['session.status_changed', 'session.turn_ended'] as const;
export const PERMISSION_MODES = ['default', 'acceptEdits', 'bypassPermissions', 'plan', 'dontAsk'] as const;
export const PERMISSION_DECISIONS = ['allow', 'deny', 'ask'] as const;

type Schema = Record<string, unknown>;

const tokenHashes = (): Schema => ({
  type: 'array',
  items: { type: 'string', pattern: TOKEN_HASH_PATTERN, description: '"sha256:<64 lowercase hex>", the SHA-256 of a bearer token (mint one with `berth token <tenant>`)' },
  description: 'SHA-256 of each bearer token, "sha256:<64 lowercase hex>"',
});
const nonEmptyString = (): Schema => ({ type: 'string', minLength: 1 });
const stringList = (): Schema => ({ type: 'array', items: nonEmptyString() });
const int = (minimum: number, maximum: number, description: string): Schema => ({ type: 'integer', minimum, maximum, description });
const mapping = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({ type: 'object', additionalProperties: false, properties, ...extra });

const agent = mapping({
  model: nonEmptyString(),
  systemPrompt: nonEmptyString(),
  allowedTools: stringList(),
  disallowedTools: stringList(),
  maxTurns: int(1, 1000, 'model round trips per turn'),
  permissionMode: { enum: [...PERMISSION_MODES] },
  permissions: mapping({
    default: { enum: [...PERMISSION_DECISIONS], description: 'decision when no rule matches (default allow)' },
    rules: {
      type: 'array',
      description: 'first match wins; tool is an exact tool name or a pattern where * matches any run of characters',
      items: mapping({ tool: nonEmptyString(), decision: { enum: [...PERMISSION_DECISIONS] } }, { required: ['tool', 'decision'] }),
    },
  }),
  // Bounds: a day is far above any interactive wait or turn; beyond it a session is stuck, not busy.
  approvalTimeoutS: int(1, 86_400, 'seconds an ask waits for the caller; no answer = deny (default 300)'),
  turnTimeoutS: int(1, 86_400, 'seconds a turn may run before it is interrupted (default 1800)'),
  // The agent keeps two turns' frames in memory: 1 000 000 frames of at most 64 MiB is already
  // more than a sandbox holds; the bounds refuse typos (an extra zero), not real profiles.
  maxFramesPerTurn: int(1, 1_000_000, 'frames one turn may emit (default 5000)'),
  maxFrameBytes: int(1024, 64 * 1024 * 1024, 'bytes of one frame (default 1048576)'),
});

const limits = mapping({
  maxConcurrentSessions: int(1, 1_000_000, 'sessions with a sandbox at once'),
  maxConcurrentTurns: int(1, 1_000_000, 'turns streaming at once'),
  requestsPerMinute: int(1, 1_000_000, 'requests per minute (token bucket)'),
  tokenBudget: mapping(
    {
      tokens: { type: 'integer', minimum: 1, description: 'model tokens per period' },
      periodS: int(1, 366 * 86_400, 'seconds of one budget period'),
    },
    { required: ['tokens', 'periodS'] },
  ),
});

const webhooks: Schema = {
  type: 'array',
  description: 'endpoints told about the tenant\'s sessions (Standard Webhooks signatures)',
  items: mapping(
    {
      url: { type: 'string', pattern: '^https?://[^\\s]+$', description: 'an http:// or https:// URL' },
      secret: { type: 'string', pattern: WEBHOOK_SECRET_PATTERN, description: 'a Standard Webhooks secret, "whsec_<base64>"' },
      events: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...WEBHOOK_EVENTS] }, description: 'events to send (default all)' },
    },
    { required: ['url', 'secret'] },
  ),
};

const tenant = mapping({
  tokenHashes: tokenHashes(),
  agent,
  sandboxProfile: { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,29}[a-z0-9])?$', description: 'a sandbox profile name: lowercase letters, digits and -, at most 31' },
  egress: mapping({
    allow: {
      type: 'array',
      items: { type: 'string', pattern: '^[^\\s/]+$', description: 'host, *.suffix or IP literal, optional :port or :* (no scheme, no path); the gateway checks the rest at load' },
    },
  }),
  limits,
  modelApiKeyEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$', description: 'the name of an environment variable (capitals, digits, _)' },
  webhooks,
});

/** The tenants file's schema (the document root). Frozen deep enough that no reader edits it. */
export const TENANTS_FILE_SCHEMA: Readonly<Schema> = Object.freeze(
  mapping(
    {
      tenants: {
        type: 'object',
        propertyNames: { pattern: TENANT_NAME_PATTERN, description: 'a tenant name: lowercase letters, digits, _ and -, at most 63' },
        additionalProperties: tenant,
      },
      admins: mapping({ tokenHashes: tokenHashes() }),
    },
    { required: ['tenants'] },
  ),
);
