// The caller journey through the whole gateway on the local backend (the `berth start` default):
// the same cases as on Kubernetes and Modal, from contracts/gateway-journey-contract.ts. Its
// probes read the local sandboxes directly: a sandbox runs while its agent answers /health with
// its own token, and killing one SIGKILLs its jail (an isolated sandbox, whose port is the
// gateway's own bridge) or its agent's process group (a plain one), as the OOM killer would. The
// local stack's extra cases (413, 431, 409, disconnect, model faults) are in stack.test.ts.

import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClaimedSandbox } from '@berth/orchestrator';
import { healthStatus } from '../contracts/sandbox-backend-contract.js';
import { runGatewayJourney } from '../contracts/gateway-journey-contract.js';
import { childPids, pidListeningOn } from '../fixtures/proc-env.js';
import { startTestStack } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

runGatewayJourney({
  backend: 'local',
  async open(poolSize) {
    const stack = await startTestStack({ poolSize });
    // The gateway's claims, by sandbox id: the endpoint is what the probes need, and the
    // backend keeps it private.
    const claimed = new Map<string, ClaimedSandbox>();
    const backend = stack.stack.backend!;
    const claim = backend.claim.bind(backend);
    backend.claim = async (...args: Parameters<typeof claim>) => {
      const sandbox = await claim(...args);
      claimed.set(sandbox.sandboxId, sandbox);
      return sandbox;
    };
    const endpoint = (id: string): ClaimedSandbox => {
      const sandbox = claimed.get(id);
      if (!sandbox) throw new Error(`sandbox ${id} was never claimed through this stack`);
      return sandbox;
    };
    const running = async (id: string): Promise<boolean> => (await healthStatus(endpoint(id).url, endpoint(id).authToken)) === 200;
    return {
      stack,
      sandboxRunning: running,
      async killSandbox(id) {
        const backend = stack.stack.backend as { isolated?: boolean };
        if (backend.isolated) {
          // The jail's pid namespace ends with its first process: everything inside dies with it.
          const owner = JSON.parse(readFileSync(path.join(os.tmpdir(), 'berth-sandboxes', id, 'owner.json'), 'utf8')) as { jailPid: number };
          process.kill(owner.jailPid, 'SIGKILL');
        } else {
          const pid = pidListeningOn(Number(new URL(endpoint(id).url).port), childPids(process.pid));
          if (pid === undefined) throw new Error(`sandbox ${id} has no agent process listening`);
          // The agent server leads its own process group: the group is the whole sandbox.
          process.kill(-pid, 'SIGKILL');
        }
        await waitFor(`sandbox ${id} to stop answering`, async () => !(await running(id)));
      },
      close: () => stack.stop(),
    };
  },
});
