// Versions the two images and the workspace agree on: Node 22 LTS everywhere (Node 20 reached end
// of life in April 2026), and one source for the Agent SDK version, agent-image/package.json,
// which the agent Dockerfile reads instead of pinning it a second time. A pin in two places
// drifts: the image would run an SDK the tests never ran.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { repoRoot } from './render-chart.js';

const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');
const json = (file: string) => JSON.parse(read(file)) as Record<string, unknown>;
const SDK = '@anthropic-ai/claude-agent-sdk';

/** The base image of every FROM line, with ARG defaults substituted. */
function baseImages(dockerfile: string): string[] {
  const args = new Map<string, string>();
  for (const m of dockerfile.matchAll(/^ARG\s+(\w+)=(\S+)/gm)) args.set(m[1]!, m[2]!);
  return [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)]
    .map((m) => m[1]!.replace(/\$\{(\w+)\}/g, (_all, name: string) => args.get(name) ?? `\${${name}}`))
    .filter((image) => !/^[a-z-]+$/.test(image)); // a bare stage name (FROM build) is not a base image
}

describe('Node 22 LTS', () => {
  for (const file of ['gateway/Dockerfile', 'agent-image/Dockerfile']) {
    test(`${file} builds and runs on node:22`, () => {
      const images = baseImages(read(file));
      expect(images.length).toBeGreaterThanOrEqual(2);
      for (const image of images) expect(image).toMatch(/^node:22(-|$)/);
    });
  }

  test('the root package.json engines asks for Node 22 or later', () => {
    const engines = json('package.json').engines as { node: string };
    expect(engines.node).toMatch(/^>=22(\.|$)/);
  });
});

describe('Agent SDK version: one source', () => {
  const declared = (json('agent-image/package.json').dependencies as Record<string, string>)[SDK]!;

  test('agent-image/package.json pins an exact version, the one the lockfile installs', () => {
    expect(declared).toMatch(/^\d+\.\d+\.\d+$/);
    const lock = json('package-lock.json') as { packages: Record<string, { version?: string }> };
    expect(lock.packages[`node_modules/${SDK}`]?.version).toBe(declared);
  });

  test('the agent Dockerfile reads it from agent-image/package.json and pins no version of its own', () => {
    const dockerfile = read('agent-image/Dockerfile');
    expect(dockerfile).not.toContain(declared);
    expect(dockerfile).not.toMatch(/SDK_VERSION=\d/);
    expect(dockerfile).toMatch(/require\("\.\/agent-image\/package\.json"\)\.dependencies\["@anthropic-ai\/claude-agent-sdk"\]/);
  });
});
