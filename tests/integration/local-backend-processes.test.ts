// LocalProcessBackend behaviour the shared contract cannot see, checked through the process
// table: a standby killed with SIGKILL is replaced, a session whose process died gets a fresh
// one, and stop() leaves no child process (or process-group member) behind, even mid-start.
import { execFileSync } from 'node:child_process';
import { LocalProcessBackend } from '@berth/orchestrator/local';
import type { LogFields, Logger } from '@berth/orchestrator';
import { describe, expect, test } from 'vitest';
import { healthStatus, poolStatus } from '../contracts/sandbox-backend-contract.js';
import { waitFor } from '../fixtures/wait-for.js';

interface ProcessRow { pid: number; ppid: number; pgid: number; args: string }

/** Every process but the `ps` that lists them (itself a child of this worker). */
function processTable(): ProcessRow[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,pgid=,args='], { encoding: 'utf8' });
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const [pid, ppid, pgid, ...args] = line.trim().split(/\s+/);
      return { pid: Number(pid), ppid: Number(ppid), pgid: Number(pgid), args: args.join(' ') };
    })
    .filter((row) => !row.args.startsWith('ps -eo'));
}

/** The agent processes: this test worker's children (vitest runs each file in its own fork). */
const agentPids = (): number[] => processTable().filter((row) => row.ppid === process.pid).map((row) => row.pid);

function capturingLogger(): Logger & { lines: { level: string; message: string; fields: LogFields }[] } {
  const lines: { level: string; message: string; fields: LogFields }[] = [];
  const at = (level: string) => (fields: LogFields, message: string): void => void lines.push({ level, message, fields });
  return { lines, debug: () => {}, info: at('info'), warn: at('warn'), error: at('error') };
}

const agentEnv = { BERTH_AGENT_PRESTART: '0' };

const test$ = test.extend<{ backend: (options: ConstructorParameters<typeof LocalProcessBackend>[0]) => Promise<LocalProcessBackend> }>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads fixture names from the pattern
  backend: async ({}, use) => {
    const opened: LocalProcessBackend[] = [];
    await use(async (options) => {
      const backend = new LocalProcessBackend(options);
      opened.push(backend);
      await backend.start();
      return backend;
    });
    await Promise.allSettled(opened.map((backend) => backend.stop()));
  },
});

describe('LocalProcessBackend processes', () => {
  test$('a standby killed with SIGKILL is removed and replaced', async ({ backend }) => {
    const logger = capturingLogger();
    const local = await backend({ profiles: [{ name: 'p', poolSize: 1 }], agentEnv, logger });
    await waitFor('one ready standby', async () => (await poolStatus(local, 'p')).ready === 1);
    const [victim, ...others] = agentPids();
    expect(victim).toBeDefined();
    expect(others).toEqual([]);
    process.kill(victim!, 'SIGKILL');
    await waitFor('a replacement standby', async () => {
      const pids = agentPids();
      return !pids.includes(victim!) && pids.length === 1 && (await poolStatus(local, 'p')).ready === 1;
    });
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'warn', message: 'agent process exited unexpectedly' }));
    const claimed = await local.claim('after-kill', 'p');
    expect(claimed.outcome).toBe('warm');
    expect(await healthStatus(claimed.url, claimed.authToken)).toBe(200);
  });

  test$('a session whose process died gets a fresh sandbox on its next claim; a dead one left alone is swept', async ({ backend }) => {
    const local = await backend({ profiles: [{ name: 'p', poolSize: 0 }], agentEnv });
    // Pool size 0: each claim starts exactly one child, so the process table tells whose is whose.
    const s = await local.claim('s', 'p');
    const [pidS, ...none] = agentPids();
    expect(none).toEqual([]);
    const t = await local.claim('t', 'p');
    const pidT = agentPids().find((pid) => pid !== pidS)!;
    expect(pidT).toBeDefined();

    process.kill(pidS!, 'SIGKILL');
    await waitFor("s's agent to be gone", async () => !agentPids().includes(pidS!) && (await healthStatus(s.url, s.authToken)) !== 200);
    const again = await local.claim('s', 'p');
    expect(again.sandboxId).not.toBe(s.sandboxId);
    expect(again.outcome).toBe('cold');
    expect(await healthStatus(again.url, again.authToken)).toBe(200);
    expect((await local.claim('t', 'p')).sandboxId).toBe(t.sandboxId);
    expect((await local.sweep(async () => true)).removed).toEqual([]);

    process.kill(pidT, 'SIGKILL');
    await waitFor("t's agent to be gone", async () => !agentPids().includes(pidT) && (await healthStatus(t.url, t.authToken)) !== 200);
    expect((await local.sweep(async () => true)).removed).toEqual([t.sandboxId]);
    expect(await poolStatus(local, 'p')).toMatchObject({ claimed: 1, coldStarts: 3 });
  });

  test$('stop() leaves no child process and no process-group member, even with starts in flight', async ({ backend }) => {
    const local = await backend({ profiles: [{ name: 'warm', poolSize: 2 }, { name: 'cold', poolSize: 0 }], agentEnv });
    await waitFor('two ready standbys', async () => (await poolStatus(local, 'warm')).ready === 2);
    await local.claim('a', 'warm');
    await local.claim('b', 'cold');
    const groups = new Set(agentPids());
    expect(groups.size).toBeGreaterThanOrEqual(3);
    // A cold start and the pool's refills are in flight when stop() begins.
    const inFlight = local.claim('c', 'cold').then(() => null, (error: unknown) => error);
    await local.stop();
    expect(await inFlight).toMatchObject({ code: 'stopped' });
    expect(agentPids()).toEqual([]);
    expect(processTable().filter((row) => groups.has(row.pgid))).toEqual([]);
  });
});
