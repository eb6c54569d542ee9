// Finds and stops this process's child processes (the CLIs the SDK spawned), so shutdown leaves
// none behind even when the SDK's own grace period has not run out. Linux-only (/proc), which is
// where sandboxes run; elsewhere it reports no children and does nothing.
// Neighbours: main.ts calls it on SIGTERM after the session closed.

import { readdirSync, readFileSync } from 'node:fs';

export function childPids(pid: number = process.pid): number[] {
  const pids = new Set<number>();
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const tid of tasks) {
    try {
      for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(/\s+/)) if (child) pids.add(Number(child));
    } catch {
      // The thread ended while we listed it.
    }
  }
  return [...pids];
}

/** Waits up to graceMs for the children to exit on their own, then SIGKILLs what is left. */
export async function reapChildren(graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (childPids().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const pid of childPids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}
