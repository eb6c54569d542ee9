// Runs the shared SandboxBackend contract against LocalProcessBackend: every sandbox a real
// agent-image process on loopback. Pools stay small: each idle agent costs ~60 MB.
import { LocalProcessBackend } from '@berth/orchestrator/local';
import { runSandboxBackendContract } from '../contracts/sandbox-backend-contract.js';

runSandboxBackendContract({
  name: 'LocalProcessBackend',
  // No pre-started CLI: these tests never run a turn, and each CLI would cost ~230 MB.
  newBackend: async ({ profiles }) => new LocalProcessBackend({ profiles, agentEnv: { BERTH_AGENT_PRESTART: '0' } }),
});
