// The state directory of live isolated sandboxes on this host: one folder per sandbox holding its
// work dir, its bridge dir and `owner.json` (the gateway's pid and the jail's pid, each with its
// kernel start time, so a recycled pid is never mistaken for ours). A gateway that starts sweeps
// the folders whose gateway is gone: kills what is left of the jail and removes the folder.
// --die-with-parent already ends a sandbox with its gateway; the sweep is the belt to those
// braces, and the only thing that removes a dead gateway's work dirs.

import { mkdir, readdir, readFile, rm, writeFile, chown } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface SandboxDirs {
  root: string;
  work: string;
  bridge: string;
}

interface Owner {
  gatewayPid: number;
  gatewayStart: string | null;
  jailPid: number | null;
  jailStart: string | null;
}

/** Kernel start time of a pid (field 22 of /proc/PID/stat), or null when it is gone. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export async function createSandboxDirs(stateDir: string, id: string, owner: { uid: number; gid: number } | null): Promise<SandboxDirs> {
  const root = path.join(stateDir, id);
  const dirs = { root, work: path.join(root, 'work'), bridge: path.join(root, 'bridge') };
  // 0711: a sandbox's own uid passes through to its folder but cannot list its neighbours.
  await mkdir(stateDir, { recursive: true, mode: 0o711 });
  await mkdir(root, { mode: 0o711 });
  for (const dir of [dirs.work, dirs.bridge]) {
    await mkdir(dir, { mode: 0o700 });
    if (owner) await chown(dir, owner.uid, owner.gid);
  }
  await writeOwner(dirs, null);
  return dirs;
}

export async function writeOwner(dirs: SandboxDirs, jailPid: number | null): Promise<void> {
  const owner: Owner = {
    gatewayPid: process.pid,
    gatewayStart: processStart(process.pid),
    jailPid,
    jailStart: jailPid === null ? null : processStart(jailPid),
  };
  await writeFile(path.join(dirs.root, 'owner.json'), JSON.stringify(owner));
}

export async function removeSandboxDirs(dirs: SandboxDirs): Promise<void> {
  await rm(dirs.root, { recursive: true, force: true });
}

/**
 * Removes every sandbox folder whose gateway is no longer running, killing its jail's process
 * group first when that jail is still alive. Returns the ids it removed. Folders of live gateways
 * (other test files, another `berth start`) are left alone.
 */
export async function sweepDeadSandboxes(stateDir: string): Promise<string[]> {
  let ids: string[];
  try {
    ids = await readdir(stateDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const id of ids) {
    const root = path.join(stateDir, id);
    let owner: Owner | null = null;
    try {
      owner = JSON.parse(await readFile(path.join(root, 'owner.json'), 'utf8')) as Owner;
    } catch {
      // Unreadable or half-written: its gateway died while creating it, or it is being created
      // right now by a live one. Only the first is ours to remove, and we cannot tell: keep it.
      continue;
    }
    if (owner.gatewayStart !== null && processStart(owner.gatewayPid) === owner.gatewayStart) continue;
    if (owner.jailPid !== null && owner.jailStart !== null && processStart(owner.jailPid) === owner.jailStart) {
      try {
        process.kill(-owner.jailPid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await rm(root, { recursive: true, force: true });
    removed.push(id);
  }
  return removed;
}
