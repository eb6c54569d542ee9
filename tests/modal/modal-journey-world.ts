// The gateway journey's world on the fake Modal, for gateway-journey.test.ts (plain tunnels) and
// gateway-journey-encrypted.test.ts (TLS tunnels, Modal's default): the stack configured the way
// `berth start --backend modal` configures it, from env only.

import { agentHttpAgents } from '@berth/orchestrator';
import type { JourneyWorld } from '../contracts/gateway-journey-contract.js';
import { applyFakeModalEnv, startFakeModal, type StartFakeModalOptions } from '../fixtures/fake-modal/index.js';
import { startTestStack } from '../fixtures/stack.js';

export async function openModalJourney(poolSize: number, fakeOptions: StartFakeModalOptions): Promise<JourneyWorld> {
  const modal = await startFakeModal(fakeOptions);
  // The tunnels' certificate is its own CA; Modal's tunnels present a publicly trusted one.
  if (modal.tunnelCa) agentHttpAgents.https.options.ca = modal.tunnelCa;
  // Before the stack loads `modal` (createBackend imports it): the client reads
  // MODAL_CONFIG_PATH once at import and MODAL_* at each new client.
  const restoreEnv = applyFakeModalEnv(modal.env);
  const restore = (): void => {
    restoreEnv();
    if (modal.tunnelCa) delete agentHttpAgents.https.options.ca;
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
