// The shared SandboxBackend contract (tests/contracts/sandbox-backend-contract.ts) on ModalBackend,
// with the real modal@0.11.1 client talking to the fake control plane on loopback. Each backend
// gets its own Modal app and its own in-process registry: an isolated world, as the suite asks.
import { afterAll, beforeAll } from 'vitest';
import { MemoryRouteStore } from '@berth/gateway/store/memory-route-store';
import { runSandboxBackendContract } from '../contracts/sandbox-backend-contract.js';
import { applyFakeModalEnv, startFakeModal, type FakeModal } from '../fixtures/fake-modal/index.js';
import { newModalBackend } from '../fixtures/fake-modal/modal-backend-harness.js';

let fake: FakeModal;
let undoEnv: () => void;
let apps = 0;

beforeAll(async () => {
  fake = await startFakeModal();
  undoEnv = applyFakeModalEnv(fake.env);
});

afterAll(async () => {
  undoEnv?.();
  await fake?.stop();
});

runSandboxBackendContract({
  name: 'ModalBackend (fake Modal control plane)',
  newBackend: async ({ profiles }) => newModalBackend({ profiles, standbys: new MemoryRouteStore(), appName: `contract-${++apps}` }),
});
