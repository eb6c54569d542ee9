// `berth gateway`: the container entry point. Reads BERTH_* from the environment and runs the
// ingress API, the egress gateway, or both. SIGTERM drains (readyz 503, streams get
// BERTH_DRAIN_GRACE_S to finish, then end with one terminal frame) before exiting.

import { createLogger } from '@berth/gateway';
import { startStack } from '@berth/gateway/stack';
import type { Flags } from '../flags.js';
import { readConfig, untilSignal } from '../run-support.js';

export async function gatewayCommand(flags: Flags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (flags['ingress-only'] && flags['egress-only']) {
    process.stderr.write('choose at most one of --ingress-only and --egress-only\n');
    return 2;
  }
  const config = readConfig(env);
  const log = createLogger(config.logLevel);
  const roles = { ingress: !flags['egress-only'], egress: !flags['ingress-only'] };
  const stack = await startStack({ config, env, log, roles });
  log.info({ ingress: stack.ingressUrl, egress: stack.egressUrl, egressMetrics: stack.egressMetricsUrl }, 'berth gateway started');
  await untilSignal();
  log.info('draining');
  await stack.stop();
  return 0;
}
