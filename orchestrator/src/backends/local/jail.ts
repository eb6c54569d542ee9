// How an isolated local sandbox is started: the bubblewrap command line around the agent server
// (pure, so a unit test reads it), and the check for whether isolation is available at all.
// Neighbours: local-sandbox.ts runs the command; sandbox-bridge.ts is preloaded inside it.
//
// bubblewrap directly, not @anthropic-ai/sandbox-runtime: the runtime wraps one shell command
// with a read-mostly filesystem (deny-listed paths) and its own HTTP/SOCKS proxies with their own
// domain filter, bridged in with socat. berth already has an egress gateway that enforces the
// tenant's allowlist and meters tokens, needs a filesystem that shows nothing of the checkout by
// default (allow-listed binds), needs a pid namespace, rlimits and a per-sandbox uid, and runs a
// long-lived server that the gateway must reach inwards. Those are a few bwrap flags and two
// small Node bridges, and no extra proxy or socat process per sandbox.
//
// What the sandbox gets (security controls, each one a flag below):
// - user namespace, uid/gid 1000 inside; outside, its own uid when the gateway runs as root;
// - pid namespace: it sees and signals only its own processes; when its first process ends the
//   kernel kills the rest, and --die-with-parent ends it with the gateway;
// - mount namespace: /usr and /etc read-only, a fresh /proc of its own, a minimal /dev, a private
//   /tmp, its own work dir at /sandbox, the bridge dir at /run/berth, and read-only exactly what
//   the agent server needs to run (agent-image, protocol, node_modules); nothing else of the host;
// - network namespace with loopback only (ways in and out: sandbox-bridge.ts);
// - ipc and uts namespaces; rlimits on processes, open files and address space via prlimit.

import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export type IsolationSetting = 'auto' | 'on' | 'off';

export type Isolation =
  | { kind: 'bwrap'; bwrap: string; prlimit: string | null }
  | { kind: 'none'; reason: 'disabled' | 'missing' };

/** The one line `berth start` prints when sandboxes run without isolation because bwrap is missing. */
export const NOT_ISOLATED_WARNING =
  'local sandboxes are NOT isolated (bubblewrap not found: a sandbox can read the gateway and other sandboxes); fix: sudo apt-get install -y bubblewrap';

/** Parses BERTH_LOCAL_ISOLATION: auto (default: on where bwrap exists), on (required), off (bench baseline). */
export function parseIsolationSetting(raw: string | undefined): IsolationSetting {
  if (raw === undefined || raw === '') return 'auto';
  if (raw === 'auto' || raw === 'on' || raw === 'off') return raw;
  throw new Error(`BERTH_LOCAL_ISOLATION must be auto, on or off (got '${raw}')`);
}

export function findExecutable(name: string, pathVar: string | undefined = process.env.PATH): string | null {
  for (const dir of (pathVar ?? '/usr/bin:/bin').split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export function resolveIsolation(setting: IsolationSetting, find: (name: string) => string | null = findExecutable): Isolation {
  if (setting === 'off') return { kind: 'none', reason: 'disabled' };
  const bwrap = find('bwrap');
  if (!bwrap) {
    if (setting === 'on') throw new Error(`BERTH_LOCAL_ISOLATION=on but bwrap is not installed; ${NOT_ISOLATED_WARNING.split('; ').pop()}`);
    return { kind: 'none', reason: 'missing' };
  }
  return { kind: 'bwrap', bwrap, prlimit: find('prlimit') };
}

export interface JailLimits {
  /** RLIMIT_NPROC: processes (and threads) of the sandbox's uid. */
  processes: number;
  /** RLIMIT_NOFILE per process. */
  openFiles: number;
  /** RLIMIT_AS per process, bytes. */
  addressSpaceBytes: number;
}

/**
 * Limits from a profile's memory. The address-space bound is 4× the profile memory because the
 * Node and CLI runtimes reserve virtual space they never touch (V8's pointer cage, the CLI's
 * heap); it stops a runaway allocation, not a slow creep. 512 processes is far above the CLI
 * plus a busy Bash tool and far below what starves the host; 4096 files likewise.
 */
export function limitsFor(memoryMiB: number | undefined): JailLimits {
  const mib = memoryMiB ?? 1024;
  return { processes: 512, openFiles: 4096, addressSpaceBytes: Math.max(2048, mib * 4) * 1024 * 1024 };
}

export interface JailCommandInput {
  isolation: Extract<Isolation, { kind: 'bwrap' }>;
  /** Host dir bound read-write at /sandbox (the agent's data dir). */
  workDir: string;
  /** Host dir bound read-write at /run/berth (the bridge sockets). */
  bridgeDir: string;
  /** Host file of sandbox-bridge.js, bound read-only at BRIDGE_PATH. */
  bridgeScript: string;
  /** Host paths the agent server needs, bound read-only at the same path. */
  readOnly: readonly string[];
  nodePath: string;
  agentEntry: string;
  limits: JailLimits;
}

export const SANDBOX_WORK_DIR = '/sandbox';
export const SANDBOX_BRIDGE_DIR = '/run/berth';
const BRIDGE_PATH = '/opt/berth/bridge.mjs';

export function buildJailCommand(input: JailCommandInput): { file: string; args: string[] } {
  const bwrap = [
    input.isolation.bwrap,
    '--unshare-user', '--uid', '1000', '--gid', '1000',
    '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
    '--die-with-parent',
    '--hostname', 'sandbox',
    '--ro-bind', '/usr', '/usr',
    '--symlink', 'usr/bin', '/bin',
    '--symlink', 'usr/sbin', '/sbin',
    '--symlink', 'usr/lib', '/lib',
    '--symlink', 'usr/lib64', '/lib64',
    '--ro-bind', '/etc', '/etc',
    '--proc', '/proc',
    '--dev', '/dev',
    '--tmpfs', '/tmp',
    '--bind', input.workDir, SANDBOX_WORK_DIR,
    '--bind', input.bridgeDir, SANDBOX_BRIDGE_DIR,
    '--ro-bind', input.bridgeScript, BRIDGE_PATH,
  ];
  if (!input.nodePath.startsWith('/usr/')) bwrap.push('--ro-bind', input.nodePath, input.nodePath);
  for (const dir of input.readOnly) bwrap.push('--ro-bind', dir, dir);
  bwrap.push('--chdir', SANDBOX_WORK_DIR, '--', input.nodePath, '--import', BRIDGE_PATH, input.agentEntry);
  if (!input.isolation.prlimit) return { file: bwrap[0]!, args: bwrap.slice(1) };
  const { processes, openFiles, addressSpaceBytes } = input.limits;
  return {
    file: input.isolation.prlimit,
    args: [`--nproc=${processes}`, `--nofile=${openFiles}`, `--as=${addressSpaceBytes}`, '--', ...bwrap],
  };
}
