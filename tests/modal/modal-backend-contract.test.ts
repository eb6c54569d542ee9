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
  newBackend: async ({ profiles }) => newModalBackend({ profiles, standbys: new MemoryStandbyRegistry(), appName: `contract-${++apps}` }),
});
