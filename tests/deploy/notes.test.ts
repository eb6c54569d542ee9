// NOTES.txt, as `helm install` prints it (client-side dry run: no cluster needed): how to get a
// token and the first curl, with this release's names, and the warnings that apply.
import { describe, expect, test } from 'vitest';
import { chartDir, runHelm } from './render-chart.js';

async function notes(...sets: string[]): Promise<string> {
  const out = await runHelm(['install', 'demo', chartDir, '--namespace', 'agents', '--dry-run=client', ...sets.flatMap((s) => ['--set', s])]);
  const at = out.indexOf('NOTES:\n');
  expect(at, 'helm printed no NOTES').toBeGreaterThanOrEqual(0);
  return out.slice(at);
}

describe('NOTES.txt', () => {
  test('shows how to make a token and the first curl, with the release\'s own names', async () => {
    const text = await notes();
    expect(text).toContain('TOKEN="$(openssl rand -hex 32)"');
    expect(text).toMatch(/HASH="sha256:\$\(printf %s "\$TOKEN" \| sha256sum/);
    expect(text).toContain('kubectl -n agents port-forward svc/demo-berth-gateway 8080:8080');
    expect(text).toMatch(/curl -N -H "Authorization: Bearer \$TOKEN" .*\n.*\/sessions\/demo-1\/messages/);
    expect(text).toContain('kubectl -n demo-sandboxes get pods');
    expect(text).toMatch(/\n\n2\. Add the hash/); // numbered steps stay separate paragraphs
  });

  test('warns about a missing model key and the bundled Redis only when they apply', async () => {
    const defaults = await notes();
    expect(defaults).toMatch(/WARNING: no model API key/);
    expect(defaults).toMatch(/bundled Redis .* NOT highly\navailable/s);
    const configured = await notes('modelApiKey.existingSecret=k', 'redis.mode=external', 'redis.external.url=redis://r:6379');
    expect(configured).not.toMatch(/no model API key/);
    expect(configured).not.toMatch(/bundled Redis/);
  });

  test('with a user-managed tenants Secret, says how to update that Secret', async () => {
    const text = await notes('tenants.existingSecret=my-tenants');
    expect(text).toContain('kubectl -n agents create secret generic my-tenants');
    expect(text).not.toContain('tenants-values.yaml');
  });

  test('with backend=modal, names Modal and the egress address instead of a sandbox namespace; always offers helm test', async () => {
    const text = await notes('backend=modal', 'modal.token.existingSecret=modal-token', 'modal.egress.loadBalancer.loadBalancerIP=203.0.113.10');
    expect(text).toMatch(/Agent sandboxes run on Modal \(app "berth"\); they reach the egress gateway at\nhttp:\/\/203\.0\.113\.10:8081 and nothing else \(203\.0\.113\.10\/32\)/);
    expect(text).not.toContain('demo-sandboxes');
    expect(text).toContain('helm test demo -n agents');
  });
});
