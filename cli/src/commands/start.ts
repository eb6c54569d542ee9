// `berth start` (what `npm start` runs): the whole stack in one process tree with embedded
// defaults — in-process route store (or Redis with --redis), local sandboxes with a warm pool,
// the egress gateway, and the bundled offline model as the upstream when there is no
// ANTHROPIC_API_KEY (or with --offline-model).
// Prints pool progress while standbys warm, then (once one is ready) the URL, the demo tenants'
// tokens and a ready curl line; Ctrl-C stops everything, also while warming.

import { createLogger } from '@berth/gateway';
import { startStack } from '@berth/gateway/stack';
import { startOfflineModel } from '../offline-model/index.js';
import { ensureDemoTenants } from '../demo-tenants.js';
import type { Flags } from '../flags.js';
import { waitForFirstStandby } from '../pool-progress.js';
import { readConfig, untilSignal } from '../run-support.js';

/** Placeholder "real key" handed upstream in offline mode, so the key swap is visible in the offline model's log. */
export const OFFLINE_REAL_KEY = 'offline-model-real-key';

export async function startCommand(flags: Flags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const merged: NodeJS.ProcessEnv = { ...env };
  const set = (name: string, flag: string): void => {
    const value = flags[flag];
    if (typeof value === 'string') merged[name] = value;
  };
  set('BERTH_REDIS_URL', 'redis');
  set('BERTH_BACKEND', 'backend');
  set('BERTH_KUBECONFIG', 'kubeconfig');
  set('BERTH_PORT', 'port');
  set('BERTH_EGRESS_PORT', 'egress-port');
  set('BERTH_POOL_SIZE', 'pool-size');
  set('BERTH_TENANTS_FILE', 'tenants-file');
  set('BERTH_LOG_LEVEL', 'log-level');
  merged.BERTH_LOG_LEVEL ??= 'warn';
  // A newcomer's `npm ci && npm start` has no key: the bundled offline model is the embedded
  // default then, announced loudly so nobody mistakes its echoes for Claude.
  const asked = flags['offline-model'] === true;
  const offline = asked || !merged.ANTHROPIC_API_KEY;

  const config = readConfig(merged);
  const log = createLogger(config.logLevel);
  const demoTokens = await ensureDemoTenants(config.tenantsFile);
  const model = offline ? await startOfflineModel() : undefined;
  if (model) {
    merged.ANTHROPIC_API_KEY ??= OFFLINE_REAL_KEY;
    process.stdout.write(
      `\n*** OFFLINE MODEL at ${model.url}: answers are deterministic echoes, not Claude. ***\n` +
        (asked ? '' : '    (no ANTHROPIC_API_KEY set; for the real model: export ANTHROPIC_API_KEY=sk-ant-... and npm start again)\n'),
    );
  }
  process.stdout.write(`\nstarting berth (gateway, egress gateway, ${config.backend} sandboxes)…\n`);
  const stack = await startStack({ config, env: merged, log, ...(model ? { modelUpstreamUrl: model.url } : {}) }).catch(async (error: unknown) => {
    await model?.close();
    throw error;
  });

  // Ctrl-C while the pool warms stops as cleanly as after: the signal is awaited from here on.
  const stopped = new AbortController();
  const signal = untilSignal().then((name) => (stopped.abort(), name));
  const ready = await waitForFirstStandby(() => stack.backend!.pool(), (line) => process.stdout.write(`  ${line}\n`), stopped.signal);
  if (ready) printRunning(stack.ingressUrl!, stack.egressUrl!, config, demoTokens);
  await signal;
  process.stdout.write('\nstopping berth…\n');
  await stack.stop();
  await model?.close();
  process.stdout.write('stopped.\n');
  return 0;
}

function printRunning(url: string, egressUrl: string, config: ReturnType<typeof readConfig>, demoTokens: Awaited<ReturnType<typeof ensureDemoTenants>>): void {
  const lines = [
    '',
    `berth is running: ${url}  (egress gateway ${egressUrl}, ${config.redisUrl ? 'Redis store' : 'in-process store'}, ${config.backend} sandboxes)`,
    `tenants file: ${config.tenantsFile}`,
  ];
  if (demoTokens) {
    for (const [tenant, token] of Object.entries(demoTokens)) lines.push(`  ${tenant.padEnd(6)} token: ${token}`);
    lines.push('', 'Try it:', `  curl -N -H "Authorization: Bearer ${demoTokens.alice}" -d '{"prompt":"hello"}' ${url}/sessions/demo-1/messages`);
  } else {
    lines.push('  (mint a token with: npm run berth -- token <tenant>)');
  }
  lines.push('', 'Ctrl-C stops everything.', '');
  process.stdout.write(lines.join('\n'));
}
