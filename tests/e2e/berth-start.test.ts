// `berth start` as a newcomer runs it (`npm ci && npm start`: no key, no flag, so the bundled
// offline model is the default and says so): a child process, its printed tokens
// and curl line work, pool progress shows before "running" (printed once a standby is ready),
// and Ctrl-C (SIGINT) leaves no process of its tree behind.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { resultText, sendMessage, terminalFrames } from '../fixtures/stack.js';
import { waitFor } from '../fixtures/wait-for.js';

const root = path.resolve(import.meta.dirname, '../..');
let dir: string | undefined;
afterAll(async () => dir && rm(dir, { recursive: true, force: true }));

/** Every descendant pid of `pid`, from the process table. */
function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' }).trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  const found: number[] = [];
  const walk = (parent: number): void => {
    for (const [child, ppid] of rows) if (ppid === parent) (found.push(child!), walk(child!));
  };
  walk(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('berth start with no key runs on the offline model, prints working tokens and stops with no process left', async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-start-'));
  const child = spawn(process.execPath, [path.join(root, 'cli/dist/main.js'), 'start', '--port', '0', '--egress-port', '0', '--pool-size', '1', '--tenants-file', path.join(dir, 'tenants.yaml')], {
    env: { PATH: process.env.PATH ?? '', HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  await waitFor('berth start to print its banner', () => out.includes('Ctrl-C stops everything'), { timeoutMs: 90_000 });
  expect(out).toContain('OFFLINE MODEL');
  expect(out).toContain('no ANTHROPIC_API_KEY set');
  // Progress while the pool warms, and "running" only after the first standby is ready.
  const starting = out.indexOf('starting berth');
  const warmed = out.indexOf('  pool: default 1/1 ready\n');
  const running = out.indexOf('berth is running');
  expect(starting).toBeGreaterThanOrEqual(0);
  expect(warmed).toBeGreaterThan(starting);
  expect(running).toBeGreaterThan(warmed);
  expect(out.slice(starting, running)).toMatch(/^starting berth[^\n]*\n(  pool: default [01]\/1 ready\n)+\n$/);
  const url = /berth is running: (http:\/\/[^\s]+)/.exec(out)![1]!;
  const alice = /alice\s+token: (berth_\S+)/.exec(out)![1]!;
  expect(/bob\s+token: (berth_\S+)/.test(out)).toBe(true);
  expect(out).toContain(`curl -N -H "Authorization: Bearer ${alice}"`);

  const turn = await sendMessage(url, 'demo-1', 'hello', { token: alice });
  expect(terminalFrames(turn).map((f) => f.event)).toEqual(['done']);
  expect(resultText(turn)).toContain('you said "hello"');

  const tree = descendants(child.pid!);
  expect(tree.length).toBeGreaterThanOrEqual(2); // the sandbox in use and the warm standby (and their CLIs)
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  expect(code).toBe(0);
  expect(out).toContain('stopped.');
  // Processes killed on the way out may still be exiting when `stopped.` prints; a survivor
  // fails this wait, naming the pids it saw.
  await waitFor('no process of the tree left', () => tree.filter(alive).length === 0, { timeoutMs: 10_000 }).catch((error: Error) => {
    throw new Error(`${error.message}; still alive: ${tree.filter(alive).join(', ')}`);
  });
}, 120_000);
