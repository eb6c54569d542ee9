// deploy/manifests/berth.yaml is the chart rendered by deploy/render-manifests.mjs; this test
// fails when someone changes one without the other (fix: npm run render:manifests).
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
// @ts-expect-error: plain ESM script without type declarations.
import { manifestsFile, renderManifests } from '../../deploy/render-manifests.mjs';
import { helm } from './render-chart.js';

test('the committed manifests equal a fresh render of the chart', () => {
  const committed = readFileSync(manifestsFile as string, 'utf8');
  const fresh = (renderManifests as (helmPath: string) => string)(helm());
  // Compare whole text: a diff here means `npm run render:manifests` was not run.
  expect(committed === fresh, 'deploy/manifests/berth.yaml is stale: run npm run render:manifests').toBe(true);
});

test('the manifests carry no generated secret material and reference the Secrets their header names', () => {
  const text = readFileSync(manifestsFile as string, 'utf8');
  const objects = parseAllDocuments(text).map((d) => d.toJS() as { kind: string; metadata: { name: string } } | null).filter((o) => o !== null);
  expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  for (const secret of ['berth-tenants', 'berth-credential-keys', 'berth-redis-auth', 'berth-model-api-key']) {
    expect(text).toContain(`create secret generic ${secret}`);
    expect(text).toMatch(new RegExp(`(name|secretName): ${secret}\\n`));
  }
  expect(objects[0]).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'berth' } });
});
