// Aligned plain-text tables for the admin commands' default output: a header row, then one row
// per item, columns padded to their widest cell and separated by two spaces. No colour, no box
// drawing, so the output pastes cleanly; scripts use --json instead of parsing this.

/** Renders `rows` under `headers`; numeric-looking columns are right-aligned. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^-?[\d,.]+$|^-$/.test(r[i] ?? '')));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** "key  value" lines with the keys padded to one width (a single record). */
export function formatFields(fields: Array<[string, string]>): string {
  const width = Math.max(...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}

/** An ISO timestamp shortened for a table: "2026-11-22 23:50:12Z". */
export function shortTime(iso: unknown): string {
  return typeof iso === 'string' ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

/** 1234567 → "1,234,567" (token counts are read at a glance). */
export function count(n: unknown): string {
  return typeof n === 'number' ? n.toLocaleString('en-US') : '-';
}
