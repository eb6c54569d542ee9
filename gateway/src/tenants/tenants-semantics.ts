// The tenants file's rules a JSON Schema cannot state, checked after the schema (tenants-problems.ts):
// allowlist entries in the egress allowlist's own grammar, a token hash that names two principals
// (two tenants, or a tenant and an admin: a security control, since the first match would win
// silently), and webhook URLs and secrets that parse. Reads only the parts the schema already
// found well-formed (`skip` holds the schema's problem paths), so no value is reported twice.

import { parseAllowlist } from '../policy/allowlist.js';

/** Standard Webhooks: a signing key is 24 to 64 bytes. */
const WEBHOOK_KEY_BYTES = { min: 24, max: 64 } as const;

export function semanticProblems(doc: Record<string, unknown>, schemaProblems: readonly string[]): string[] {
  const problems: string[] = [];
  const clean = (at: string): boolean => !schemaProblems.some((p) => p.startsWith(`${at}:`) || p.startsWith(`${at}.`) || p.startsWith(`${at}[`));
  const tenants = isObject(doc.tenants) ? doc.tenants : {};
  const owners = new Map<string, string>();
  // Tenants mostly share allowlist entries: each distinct entry is parsed once per file.
  const entryErrors = new Map<string, string[]>();
  const allowProblems = (entry: string): string[] => {
    let errors = entryErrors.get(entry);
    if (errors === undefined) {
      const parsed = parseAllowlist([entry]);
      errors = parsed.ok ? [] : parsed.errors;
      entryErrors.set(entry, errors);
    }
    return errors;
  };
  for (const [name, raw] of Object.entries(tenants)) {
    if (!isObject(raw)) continue;
    const at = `tenants.${name}`;
    const allow = isObject(raw.egress) ? raw.egress.allow : undefined;
    if (Array.isArray(allow) && clean(`${at}.egress.allow`)) {
      for (const entry of allow as string[]) for (const error of allowProblems(entry)) problems.push(`${at}.egress.allow: ${error}`);
    }
    for (const hash of strings(raw.tokenHashes)) {
      const other = owners.get(hash);
      if (other !== undefined) problems.push(`${at}.tokenHashes: a token hash is also used by tenant ${other}`);
      else owners.set(hash, name);
    }
    if (Array.isArray(raw.webhooks)) {
      raw.webhooks.forEach((hook, i) => problems.push(...webhookProblems(`${at}.webhooks[${i}]`, hook, clean)));
      // Queued deliveries find their endpoint (and secret) by tenant and url.
      const urls = raw.webhooks.map((hook) => (isObject(hook) ? hook.url : undefined));
      urls.forEach((url, i) => {
        if (typeof url === 'string' && urls.indexOf(url) !== i) problems.push(`${at}.webhooks[${i}].url: listed twice for this tenant; give each endpoint once`);
      });
    }
  }
  const admins = isObject(doc.admins) ? strings(doc.admins.tokenHashes) : [];
  for (const hash of new Set(admins)) {
    const tenant = owners.get(hash);
    if (tenant !== undefined) problems.push(`admins.tokenHashes: a token hash is also a token of tenant ${tenant} (one token, one principal: mint the admin its own)`);
  }
  return problems;
}

function webhookProblems(at: string, hook: unknown, clean: (at: string) => boolean): string[] {
  if (!isObject(hook)) return [];
  const problems: string[] = [];
  if (typeof hook.url === 'string' && clean(`${at}.url`)) {
    const url = URL.canParse(hook.url) ? new URL(hook.url) : undefined;
    if (!url) problems.push(`${at}.url: must be an http:// or https:// URL`);
    // Never sent (the signature authenticates berth), and it would sit in the queue and in logs.
    else if (url.username !== '' || url.password !== '') problems.push(`${at}.url: must not carry a user name or password`);
  }
  if (typeof hook.secret === 'string' && clean(`${at}.secret`)) {
    const bytes = Buffer.from(hook.secret.slice('whsec_'.length), 'base64').length;
    if (bytes < WEBHOOK_KEY_BYTES.min || bytes > WEBHOOK_KEY_BYTES.max) {
      problems.push(`${at}.secret: the key after whsec_ must be ${WEBHOOK_KEY_BYTES.min} to ${WEBHOOK_KEY_BYTES.max} bytes (base64), not ${bytes}`);
    }
  }
  return problems;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
