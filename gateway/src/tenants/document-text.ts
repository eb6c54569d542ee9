// Turns the text of a tenants file into a plain document, fast enough for 100,000 tenants.
// Neighbours: tenants-file.ts (validates what this returns). It does not validate anything.
//
// Two paths, one meaning:
// - Text that opens with `{` and is valid JSON goes through JSON.parse, an order of magnitude
//   faster than any YAML parser. JSON is YAML 1.2, so such a file means the same either way,
//   with one difference: JSON.parse keeps the last of a key given twice where YAML refuses it.
//   Generated files (the case for large ones) do not repeat keys; hand-written ones are YAML.
// - Everything else is YAML, parsed by `yaml` with its own duplicate-key check turned off:
//   that check scans a mapping's earlier keys for every key, quadratic in the number of
//   tenants (it made a 100,000-tenant file take minutes). The same check runs here with a Set
//   per mapping, so a key given twice is still refused, in linear time.

import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';

export type DocumentText = { ok: true; doc: unknown } | { ok: false; problem: string };

export function parseDocumentText(text: string): DocumentText {
  if (opensWithBrace(text)) {
    try {
      return { ok: true, doc: JSON.parse(text) as unknown };
    } catch {
      // Not JSON after all (a YAML flow mapping such as `{tenants: {}}`): YAML says why, with a line.
    }
  }
  const document = parseDocument(text, { uniqueKeys: false });
  const error = document.errors[0];
  if (error) return { ok: false, problem: `not valid YAML: ${error.message.split('\n')[0]}` };
  const duplicate = firstDuplicateKey(document.contents);
  if (duplicate) return { ok: false, problem: `not valid YAML: the key ${JSON.stringify(duplicate.key)} is given twice in one mapping at line ${lineOf(text, duplicate.offset)}` };
  try {
    // toJS bounds alias expansion (maxAliasCount 100): a billion-laughs file is refused here.
    return { ok: true, doc: document.toJS() as unknown };
  } catch (error) {
    return { ok: false, problem: `not valid YAML: ${(error as Error).message.split('\n')[0]}` };
  }
}

function opensWithBrace(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // space, tab, CR, LF, and a byte-order mark
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a || c === 0xfeff) continue;
    return c === 0x7b;
  }
  return false;
}

/** The first key given twice in one mapping, depth first; the comparison is `yaml`'s own (scalar values, else identity). */
function firstDuplicateKey(root: unknown): { key: string; offset: number } | undefined {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key)) return { key: String(key), offset: (pair.key as Node | null)?.range?.[0] ?? 0 };
        seen.add(key);
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
    // Scalars have no keys; an alias repeats a node checked where it is defined.
  }
  return undefined;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
