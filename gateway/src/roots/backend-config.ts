// Which SandboxBackend the config names, with its options: pure, so the ingress root reads as
// its steps. The Modal options come from the environment (modalOptionsFromEnv), validated by
// roleProblems before anything starts.

import type { Registry } from 'prom-client';
import { createBackendMetrics, type BackendConfig, type SandboxProfile } from '@berth/orchestrator';
import { parseIsolationSetting } from '@berth/orchestrator/local';
import { modalOptionsFromEnv } from '@berth/orchestrator/modal';
import type { GatewayConfig } from '../config.js';
import type { CredentialKeys } from '../credentials/index.js';
import type { Logger } from '../log.js';
import { redisConnectionFromConfig } from '../redis-from-config.js';
import type { Store } from '../store/store.js';

export interface BackendInputs {
  config: Readonly<GatewayConfig>;
  env: Record<string, string | undefined>;
  profiles: SandboxProfile[];
  registry: Registry;
  log: Logger;
  standbys: Store['standbys'];
  keys: CredentialKeys;
  /** The egress gateway's URL as sandboxes reach it. */
  egressUrl: string;
  /** Extra environment for agent processes (tests). */
  agentEnv?: Record<string, string>;
  /** Backend options beyond what config gives (tests: the fake cluster's kubeconfig…). */
  backendOptions?: Record<string, unknown>;
}

export function backendConfig(input: BackendInputs): BackendConfig {
  const { config, profiles, registry, log } = input;
  const metrics = createBackendMetrics(registry, config.backend);
  const logger = log.child({ component: 'backend' });
  // Every sandbox learns the egress gateway's URL at start (it is the same for every tenant): its
  // standby's CLI then starts with the endpoint under the sandbox's own egress key.
  const agentEnv = { agentEnv: { BERTH_EGRESS_URL: input.egressUrl, ...input.agentEnv } };
  switch (config.backend) {
    case 'local':
      return {
        kind: 'local',
        options: { profiles, logger, metrics, isolation: parseIsolationSetting(input.env.BERTH_LOCAL_ISOLATION), egressUrl: input.egressUrl, ...agentEnv, ...input.backendOptions },
      };
    case 'kubernetes':
      return {
        kind: 'kubernetes',
        options: {
          profiles,
          metrics,
          registry,
          namespace: config.kubeNamespace,
          ...(config.kubeconfig ? { kubeconfigPath: config.kubeconfig } : {}),
          agentImage: config.agentImage,
          // Agent tokens are derived from the shared keys, so every replica can reach every pod.
          tokenKeys: input.keys,
          onWarn: (message: string) => logger.warn({}, message),
          ...agentEnv,
          ...input.backendOptions,
        },
      };
    case 'modal': {
      const modal = modalOptionsFromEnv(input.env);
      return {
        kind: 'modal',
        options: {
          profiles,
          logger,
          metrics,
          // Pool membership lives in the store: a claim is an atomic pop there (Redis across replicas).
          standbys: input.standbys,
          appName: config.modalApp,
          agentImage: config.agentImage,
          ...modal.options,
          // With an in-process store nobody else can claim our standbys after we stop: terminate them.
          onStop: redisConnectionFromConfig(config) ? 'keep' : 'terminate',
          ...agentEnv,
          ...input.backendOptions,
        },
      };
    }
  }
}
