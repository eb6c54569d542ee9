// The caller journey through the whole gateway with BERTH_BACKEND=kubernetes: the stack is
// configured the way `berth start --backend kubernetes --kubeconfig F` configures it (env only:
// BERTH_KUBECONFIG, BERTH_KUBE_NAMESPACE, BERTH_CREDENTIAL_KEYS), against the fake API server,
// whose kubelet runs each pod as a real agent process. The cases: contracts/gateway-journey-contract.ts.

import { runGatewayJourney } from '../contracts/gateway-journey-contract.js';
import { startFakeKube } from '../fixtures/fake-kube/index.js';
import { startTestStack } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

runGatewayJourney({
  backend: 'kubernetes',
  async open(poolSize) {
    const kube = await startFakeKube({ namespace: 'journey-sandboxes', maxConcurrentStarts: 2 });
    try {
      const stack = await startTestStack({
        poolSize,
        env: {
          BERTH_BACKEND: 'kubernetes',
          BERTH_KUBECONFIG: kube.kubeconfigPath,
          BERTH_KUBE_NAMESPACE: kube.namespace,
          // Agent tokens derive from these keys; any 32 bytes do for a test.
          BERTH_CREDENTIAL_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}`,
        },
        // Test-sized bounds (the defaults are sized for real clusters; backend README).
        backendOptions: { coldStartTimeoutMs: 30_000, sweepGraceMs: 0 },
      });
      const live = (name: string) => kube.pods().find((p) => p.metadata.name === name && !p.metadata.deletionTimestamp);
      return {
        stack,
        sandboxRunning: (name) => live(name)?.status?.phase === 'Running',
        async killSandbox(name) {
          if (!(await kube.killPod(name))) throw new Error(`pod ${name} has no process to kill`);
          // The kubelet reports Failed once the process exits; wait for the object to say so.
          await waitFor(`pod ${name} to leave Running`, () => live(name)?.status?.phase !== 'Running');
        },
        async close() {
          await stack.stop();
          await kube.close();
        },
      };
    } catch (error) {
      await kube.close();
      throw error;
    }
  },
});
