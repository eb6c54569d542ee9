// Validates a parsed tenants document against TENANTS_FILE_SCHEMA (ajv) and turns ajv's errors
// into the lines an operator reads: `tenants.alice.limts: unknown key (did you mean limits?)`.
// Every problem is named by its path in the file's own notation (dots, [i] for list items).
// Messages say what the value must be and never echo it: a mistyped token or webhook secret
// must not end up in a log line.

import { Ajv, type ErrorObject } from 'ajv';
import { TENANTS_FILE_SCHEMA } from './tenants-schema.js';

// allErrors: an operator fixes the file in one pass. verbose: errors carry their parentSchema,
// whose bounds and description make the message. strict: a typo in the schema itself throws here.
const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
const validate = ajv.compile(TENANTS_FILE_SCHEMA);

/** The problems of `doc` against the schema, in file order; [] when it conforms. */
export function schemaProblems(doc: unknown): string[] {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return ['the file must be a mapping with a `tenants` key'];
  if (validate(doc)) return [];
  // A Set: a large file with a problem in every entry stays linear to report.
  const problems = new Set<string>();
  for (const error of validate.errors ?? []) {
    const line = describe(error, doc);
    if (line !== undefined) problems.add(line);
  }
  return [...problems];
}

function describe(error: ErrorObject, doc: unknown): string | undefined {
  const at = displayPath(error.instancePath, doc);
  const schema = error.parentSchema as { minimum?: number; maximum?: number; description?: string; enum?: unknown[]; type?: string } | undefined;
  const join = (key: string): string => (at === '' ? key : `${at}.${key}`);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys((schema as { properties?: object } | undefined)?.properties ?? {});
      const near = known.find((k) => closeTo(k, key));
      return `${join(key)}: unknown key (${near ? `did you mean ${near}? ` : ''}known keys: ${known.join(', ')})`;
    }
    case 'required':
      return `${join(String(params.missingProperty))}: required`;
    case 'propertyNames':
      return undefined; // its inner error (below, with propertyName) says which name and why
    case 'type':
    case 'minimum':
    case 'maximum':
      if (schema?.type === 'integer' && schema.minimum !== undefined) {
        return `${at}: must be an integer ${schema.maximum !== undefined ? `from ${schema.minimum} to ${schema.maximum}` : `of at least ${schema.minimum}`}`;
      }
      return `${at}: must be ${TYPE_NAMES[String(params.type)] ?? String(params.type)}`;
    case 'minLength':
      return `${at}: must be a non-empty string`;
    case 'enum':
      return `${at}: must be one of ${(schema?.enum ?? []).join(', ')}`;
    case 'pattern': {
      const what = schema?.description ?? `a string matching ${String(params.pattern)}`;
      if (error.propertyName !== undefined) return `${join(error.propertyName)}: must be ${what}`;
      return `${at}: must be ${what}`;
    }
    case 'minItems':
      return `${at}: must not be empty (leave the key out instead)`;
    case 'uniqueItems':
      return `${at}: lists the same value twice`;
    default:
      return `${at}: ${error.message ?? 'is invalid'}`;
  }
}

const TYPE_NAMES: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false' };

/** "/tenants/alice/tokenHashes/0" → "tenants.alice.tokenHashes[0]" (list indexes by the data, not the look). */
function displayPath(pointer: string, doc: unknown): string {
  if (pointer === '') return '';
  let out = '';
  let node: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += Array.isArray(node) ? `[${segment}]` : out === '' ? segment : `.${segment}`;
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return out;
}

/** A likely typo of `known`: one or two edits apart (limts → limits, egres → egress). */
function closeTo(known: string, typed: string): boolean {
  if (Math.abs(known.length - typed.length) > 2) return false;
  const a = known.toLowerCase();
  const b = typed.toLowerCase();
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]! <= 2;
}
