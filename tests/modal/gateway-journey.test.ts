// The caller journey through the whole gateway with BERTH_BACKEND=modal: the stack is configured
// the way `berth start --backend modal` configures it (env only: MODAL_* for the client,
// BERTH_MODAL_APP, BERTH_MODAL_TUNNEL), against the fake Modal control plane, which runs each
// sandbox as a real agent process. The cases: contracts/gateway-journey-contract.ts.

import { runGatewayJourney } from '../contracts/gateway-journey-contract.js';
import { applyFakeModalEnv, startFakeModal } from '../fixtures/fake-modal/index.js';
import { startTestStack } from '../fixtures/stack.js';

runGatewayJourney({
  backend: 'modal',
  async open(poolSize) {
    const modal = await startFakeModal({ appName: 'berth-journey' });
    // Before the stack loads `modal` (createBackend imports it): the client reads
    // MODAL_CONFIG_PATH once at import and MODAL_* at each new client.
    const restoreEnv = applyFakeModalEnv(modal.env);
    try {
      const stack = await startTestStack({ poolSize, env: modal.env });
      const sandbox = (id: string) => modal.controlPlane.sandboxes.get(id);
      return {
        stack,
        sandboxRunning: (id) => sandbox(id)?.result === null,
        killSandbox: (id) => modal.controlPlane.crash(id),
        async close() {
          await stack.stop();
          await modal.stop();
          restoreEnv();
        },
      };
    } catch (error) {
      await modal.stop();
      restoreEnv();
      throw error;
    }
  },
});
