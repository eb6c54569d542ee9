// Copies the tenants file's one JSON Schema (gateway/src/tenants/tenants-schema.ts, built) into the
// Helm chart's values.schema.json at tenants.config, the only part of that file it touches.
// `--check` compares instead of writing (exit 1 on drift); tests/deploy imports the functions so
// the test and this script cannot disagree. Run `npm run build` first.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
export const chartSchemaFile = path.join(root, 'deploy', 'helm', 'berth', 'values.schema.json');
const sourceFile = path.join(root, 'gateway', 'dist', 'tenants', 'tenants-schema.js');

/** The tenants file's schema, as the gateway validates with it. */
export async function tenantsSchema() {
  return (await import(pathToFileURL(sourceFile).href)).TENANTS_FILE_SCHEMA;
}

/** The chart schema's text with tenants.config replaced by the tenants schema (formatting kept: 2-space JSON). */
export async function syncedChartSchema() {
  const chart = JSON.parse(readFileSync(chartSchemaFile, 'utf8'));
  chart.properties.tenants.properties.config = await tenantsSchema();
  return JSON.stringify(chart, null, 2) + '\n';
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const text = await syncedChartSchema();
  if (process.argv.includes('--check')) {
    const same = readFileSync(chartSchemaFile, 'utf8') === text;
    process.stderr.write(same ? 'values.schema.json: tenants.config matches the tenants schema\n' : 'values.schema.json: tenants.config differs from the tenants schema; run npm run render:tenants-schema\n');
    process.exitCode = same ? 0 : 1;
  } else {
    writeFileSync(chartSchemaFile, text);
  }
}
