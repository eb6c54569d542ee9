// Killing a jailed agent process (jail.ts) through the init of its pid namespace, for kill() in
// agent-process.ts. SIGKILL to that init (the outer bwrap's one child) makes the kernel end every
// process of the namespace; the outer bwrap then reaps it and exits, so nothing is left for the
// group signal that follows. Signalling the group first takes the jail down too (the outer bwrap
// dies of SIGTERM at once and --die-with-parent kills the init), but leaves the init a zombie of
// the host's PID 1, which some containers reap only seconds later, while kill() waits for the
// whole group to be gone: ~1.5 s of every release of an isolated sandbox on this kind of machine.

import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';

/**
 * Bound on the wait for the outer bwrap to exit after its namespace's init was killed, in ms.
 * It exits as soon as the kernel has ended the namespace (tens of ms here); past the bound the
 * group kill ends it anyway, as before.
 */
const NAMESPACE_EXIT_WAIT_MS = 2000;

/**
 * SIGKILLs the namespace init under `child` and waits (bounded) for `child` to exit. The init's
 * pid is read only while `child` is unreaped, so it is still `child`'s own child. Does nothing
 * where /proc cannot be read.
 */
export async function killThroughNamespaceInit(child: ChildProcess, exited: Promise<void>): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  let children: string;
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1');
  } catch {
    return;
  }
  let signalled = false;
  for (const init of children.split(' ')) {
    if (!/^\d+$/.test(init)) continue;
    try {
      process.kill(Number(init), 'SIGKILL');
      signalled = true;
    } catch {
      // Gone already.
    }
  }
  if (!signalled) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, NAMESPACE_EXIT_WAIT_MS)))]);
  clearTimeout(timer);
}
