// Entry point of the agent server inside every sandbox (and of the local backend's processes).
// Reads its environment once (loadConfig), then either serves HTTP (default) or runs one prompt
// and exits (`run-once` argument or BERTH_AGENT_MODE=run-once, the ephemeral tier).
// stdout carries exactly one line, `{"event":"listening","port":N}`, which the local backend
// waits for; diagnostics go to stderr. Neighbours: server.ts (routes), run-once.ts.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reapChildren } from './children.js';
import { runOnce } from './run-once.js';
import { loadConfig } from './config.js';
import { createAgentServer } from './server.js';

const log = (message: string): void => void process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'agent', message })}\n`);

async function main(): Promise<void> {
  const loaded = loadConfig(process.env, process.argv.slice(2));
  if (!loaded.ok) {
    for (const error of loaded.errors) process.stderr.write(`berth-agent: ${error}\n`);
    process.exit(2);
  }
  const { config } = loaded;
  if (config.mode === 'run-once') process.exit(await runOnce(process.env, config, log));

  const ownDataDir = config.dataDir === undefined;
  const dataDir = config.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'berth-agent-'));
  const agent = createAgentServer({ authTokenSha256: config.authTokenSha256, dataDir, prestart: config.prestart, standbyProfile: config.standbyProfile, egressUrl: config.egressUrl, maxRetries: config.maxRetries, maxBodyBytes: config.maxBodyBytes, maxBufferedBytes: config.maxBufferedBytes, log });
  agent.server.listen(config.port, config.host, () => {
    const address = agent.server.address();
    process.stdout.write(`${JSON.stringify({ event: 'listening', port: typeof address === 'object' && address ? address.port : config.port })}\n`);
  });
  agent.server.on('error', (error) => {
    log(`listen failed: ${error.message}`);
    process.exit(1);
  });

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // The SDK closes a CLI's stdin and kills it after ~2 s; bound the whole shutdown below the
    // local backend's 2 s kill grace plus margin, then make sure no CLI is left.
    await Promise.race([agent.shutdown(), new Promise((resolve) => setTimeout(resolve, 3000))]);
    await reapChildren(1000);
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop());
}

await main();
