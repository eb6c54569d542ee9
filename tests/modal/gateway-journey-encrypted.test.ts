// The caller journey through the whole gateway on Modal's default tunnel mode, encrypted: each
// sandbox's URL is https, through a TLS-terminating front door on loopback as Modal's tunnel is.
// The same cases as gateway-journey.test.ts (contracts/gateway-journey-contract.ts). It pins that
// the gateway reaches an https sandbox for every request: before, the claim and the bootstrap
// (fetch) worked and every turn's open threw ERR_INVALID_PROTOCOL (http.request on an https URL).

import { agentHttpAgents } from '@berth/orchestrator';
import { runGatewayJourney } from '../contracts/gateway-journey-contract.js';
import { applyFakeModalEnv, startFakeModal } from '../fixtures/fake-modal/index.js';
import { startTestStack } from '../fixtures/stack.js';

runGatewayJourney({
  backend: 'modal (encrypted tunnels)',
  async open(poolSize) {
    const modal = await startFakeModal({ appName: 'berth-journey-tls', encryptedTunnels: true });
    // The front doors' certificate is their own CA; Modal's tunnels present a publicly trusted one.
    agentHttpAgents.https.options.ca = modal.tunnelCa;
    const restoreEnv = applyFakeModalEnv(modal.env);
    const restore = (): void => {
      restoreEnv();
      delete agentHttpAgents.https.options.ca;
    };
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
          restore();
        },
      };
    } catch (error) {
      await modal.stop();
      restore();
      throw error;
    }
  },
});
