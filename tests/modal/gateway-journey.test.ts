// The caller journey through the whole gateway with BERTH_BACKEND=modal: the stack is configured
// the way `berth start --backend modal` configures it (env only: MODAL_* for the client,
// BERTH_MODAL_APP, BERTH_MODAL_TUNNEL), against the fake Modal control plane, which runs each
// sandbox as a real agent process. The cases: contracts/gateway-journey-contract.ts.
// It runs on the backend's default tunnel mode, encrypted: each sandbox's URL is https, through a
// TLS-terminating front door on loopback as Modal's tunnel is. That pins that the gateway reaches
// an https sandbox for every request: before, the claim and the bootstrap (fetch) worked and every
// turn's open threw ERR_INVALID_PROTOCOL (http.request on an https URL), failing 5 of the 7 cases.
// The plain tunnel's URL is claimed and probed by the backend contract and fault tests
// (modal-backend-contract.test.ts, modal-faults.test.ts); the gateway's turns over plain http run
// in the local and Kubernetes journeys.

import { agentHttpAgents } from '@berth/orchestrator';
import { runGatewayJourney, type JourneyWorld } from '../contracts/gateway-journey-contract.js';
import { applyFakeModalEnv, startFakeModal } from '../fixtures/fake-modal/index.js';
import { startTestStack } from '../fixtures/stack.js';

runGatewayJourney({
  backend: 'modal (encrypted tunnels)',
  open: openModalJourney,
});

async function openModalJourney(poolSize: number): Promise<JourneyWorld> {
  const modal = await startFakeModal({ appName: 'berth-journey', encryptedTunnels: true });
  // The tunnels' certificate is its own CA; Modal's tunnels present a publicly trusted one.
  agentHttpAgents.https.options.ca = modal.tunnelCa;
  // Before the stack loads `modal` (createBackend imports it): the client reads
  // MODAL_CONFIG_PATH once at import and MODAL_* at each new client.
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
}
