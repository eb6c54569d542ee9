// @berth/client publishes alone (issue 16): no dependency of any kind, one entry point (`.`),
// and built modules that import nothing but each other, so neither the server packages nor
// @berth/protocol can creep in. Reads the package as npm would pack it.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, test } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../client');

test('the package has no dependencies and exports only "."', async () => {
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  expect(pkg.private).toBeUndefined();
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies']) expect(pkg[field]).toBeUndefined();
  expect(Object.keys(pkg.exports as object)).toEqual(['.']);
  expect(pkg.types).toBe('dist/index.d.ts');
  expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'README.md']));
});

test('its built modules import only each other', async () => {
  const dist = path.join(root, 'dist');
  const files = (await readdir(dist)).filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'));
  expect(files).toContain('index.js');
  for (const file of files) {
    const text = await readFile(path.join(dist, file), 'utf8');
    const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
    expect(specifiers.filter((s) => !s.startsWith('./')), file).toEqual([]);
  }
});
