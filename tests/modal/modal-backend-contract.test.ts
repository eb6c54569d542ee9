// The shared SandboxBackend contract (tests/contracts/sandbox-backend-contract.ts) on ModalBackend,
// with the real modal@0.11.1 client talking to the fake control plane on loopback. Each backend
// gets its own Modal app and its own in-process registry: an isolated world, as the suite asks.
import { MemoryStandbyRegistry } from '@berth/gateway';
import { runSandboxBackendContract } from '../contracts/sandbox-backend-contract.js';
import { newModalBackend, useFakeModal } from '../fixtures/fake-modal/modal-backend-harness.js';

let apps = 0;
useFakeModal();

runSandboxBackendContract({
  name: 'ModalBackend (fake Modal control plane)',
  // No pre-started CLI in the sandboxes, as in the local run of this contract: these cases never
  // run a turn, and each CLI would cost ~1 s of CPU and ~150 MiB per sandbox.
  newBackend: async ({ profiles }) => newModalBackend({ profiles, standbys: new MemoryStandbyRegistry(), appName: `contract-${++apps}`, agentEnv: { BERTH_AGENT_PRESTART: '0' } }),
});
