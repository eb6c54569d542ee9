// The shared SandboxBackend contract against KubernetesBackend on the fake API server, each
// case in its own world (own fake server, own pods), since pool counts are asserted exactly.

import type { SandboxBackend } from '@berth/orchestrator';
import { runSandboxBackendContract } from '../contracts/sandbox-backend-contract.js';
import { openKubeWorld } from './kube-test-world.js';

runSandboxBackendContract({
  name: 'KubernetesBackend (fake API server)',
  newBackend: async ({ profiles }) => {
    const world = await openKubeWorld();
    // No pre-started CLI in the pods, as in the local run of this contract: these cases never run
    // a turn, and each CLI would cost ~1 s of CPU and ~150 MiB per pod.
    const backend = world.newReplica(profiles, { agentEnv: { BERTH_AGENT_PRESTART: '0' } });
    // The world (fake server and its pod processes) ends with the backend the suite stops.
    const wrapped: SandboxBackend = Object.create(backend) as SandboxBackend;
    wrapped.stop = async () => {
      await world.close();
    };
    return wrapped;
  },
  skip: {
    stop_leaves_nothing: 'pods are cluster-owned; stop() leaves them for the other replicas and the next start',
  },
});
