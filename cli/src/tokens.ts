// Minting bearer tokens into a tenants file. A token is printed once and only its SHA-256 hash
// is stored (security control). The YAML document is edited in place, keeping comments, and
// written atomically (temp file + rename) so the gateway's reload never reads half a file.

import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseDocument, YAMLMap, YAMLSeq } from 'yaml';
import { hashToken } from '@berth/gateway/tenants';

/** `berth_` + 32 random bytes, base64url: 256 bits, greppable in leak scanners. */
export function newToken(): string {
  return 'berth_' + randomBytes(32).toString('base64url');
}

export async function mintToken(file: string, tenant: string, defaults: Record<string, unknown> = {}): Promise<string> {
  const doc = parseDocument(await readFile(file, 'utf8').catch(() => 'tenants: {}\n'));
  if (doc.errors.length > 0) throw new Error(`${file} is not valid YAML: ${doc.errors[0]!.message}`);
  if (!doc.has('tenants') || !(doc.get('tenants') instanceof YAMLMap)) doc.set('tenants', doc.createNode({}));
  if (!doc.hasIn(['tenants', tenant])) doc.setIn(['tenants', tenant], doc.createNode({ tokenHashes: [], ...defaults }));
  if (!(doc.getIn(['tenants', tenant, 'tokenHashes']) instanceof YAMLSeq)) doc.setIn(['tenants', tenant, 'tokenHashes'], doc.createNode([]));
  const token = newToken();
  (doc.getIn(['tenants', tenant, 'tokenHashes']) as YAMLSeq).add(hashToken(token));
  await writeAtomically(file, doc.toString());
  return token;
}

/** Mints an admin token into admins.tokenHashes (created if missing); returns the token. */
export async function mintAdminToken(file: string): Promise<string> {
  const doc = parseDocument(await readFile(file, 'utf8').catch(() => 'tenants: {}\n'));
  if (doc.errors.length > 0) throw new Error(`${file} is not valid YAML: ${doc.errors[0]!.message}`);
  if (!doc.has('tenants')) doc.set('tenants', doc.createNode({}));
  if (!(doc.get('admins') instanceof YAMLMap)) doc.set('admins', doc.createNode({ tokenHashes: [] }));
  if (!(doc.getIn(['admins', 'tokenHashes']) instanceof YAMLSeq)) doc.setIn(['admins', 'tokenHashes'], doc.createNode([]));
  const token = newToken();
  (doc.getIn(['admins', 'tokenHashes']) as YAMLSeq).add(hashToken(token));
  await writeAtomically(file, doc.toString());
  return token;
}

/** Removes one token (by its value or its hash) from every tenant and the admins. Returns whether it was found. */
export async function revokeToken(file: string, tokenOrHash: string): Promise<boolean> {
  const doc = parseDocument(await readFile(file, 'utf8'));
  const hash = tokenOrHash.startsWith('sha256:') ? tokenOrHash : hashToken(tokenOrHash);
  let found = false;
  const admins = doc.getIn(['admins', 'tokenHashes']);
  if (admins instanceof YAMLSeq) found = dropHash(admins, hash);
  const tenants = doc.get('tenants');
  if (tenants instanceof YAMLMap) {
    for (const pair of tenants.items) {
      const hashes = (pair.value as YAMLMap | null)?.get('tokenHashes');
      if (hashes instanceof YAMLSeq) found = dropHash(hashes, hash) || found;
    }
  }
  if (found) await writeAtomically(file, doc.toString());
  return found;
}

function dropHash(hashes: YAMLSeq, hash: string): boolean {
  const before = hashes.items.length;
  hashes.items = hashes.items.filter((item) => String((item as { value?: unknown }).value ?? item) !== hash);
  return hashes.items.length !== before;
}

export async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode: 0o600 });
  await rename(temp, file);
}
