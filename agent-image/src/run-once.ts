// run-once mode (the ephemeral tier): one prompt, no HTTP. Reads PROMPT, ANTHROPIC_BASE_URL and
// ANTHROPIC_API_KEY (plus optional BERTH_AGENT_MODEL, BERTH_AGENT_ALLOWED_TOOLS comma list,
// BERTH_AGENT_MAX_TURNS, and HTTPS_PROXY/NO_PROXY as egress), prints the result text to stdout,
// and returns the exit code: 0 on a successful result, 1 on any error.
// Neighbours: main.ts dispatches here; sdk-options.ts builds the same options a turn gets.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { query, type SDKMessage } from '@anthropic-ai/claude-agent-sdk';
import type { AgentConfig } from './config.js';
import { buildSdkOptions } from './sdk-options.js';
import { BerthSessionStore } from './session-store.js';
import { makeDirs } from './session.js';

export async function runOnce(env: Record<string, string | undefined>, config: AgentConfig, log: (message: string) => void): Promise<number> {
  const prompt = env.PROMPT;
  const baseUrl = env.ANTHROPIC_BASE_URL;
  const apiKey = env.ANTHROPIC_API_KEY;
  if (!prompt || !baseUrl || !apiKey) {
    log('run-once needs PROMPT, ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY');
    return 1;
  }
  const root = config.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'berth-run-once-'));
  try {
    const dirs = await makeDirs(root);
    const proxyUrl = env.HTTPS_PROXY ?? env.https_proxy;
    // SIGTERM aborts the turn; the SDK then stops the CLI and the run exits 1.
    const abortController = new AbortController();
    process.once('SIGTERM', () => abortController.abort());
    const maxTurns = env.BERTH_AGENT_MAX_TURNS ? Number(env.BERTH_AGENT_MAX_TURNS) : undefined;
    const options = buildSdkOptions({
      profile: {
        ...(env.BERTH_AGENT_MODEL ? { model: env.BERTH_AGENT_MODEL } : {}),
        ...(env.BERTH_AGENT_ALLOWED_TOOLS ? { allowedTools: env.BERTH_AGENT_ALLOWED_TOOLS.split(',').map((t) => t.trim()).filter(Boolean) } : {}),
        ...(maxTurns !== undefined && Number.isInteger(maxTurns) && maxTurns > 0 ? { maxTurns } : {}),
      },
      model: { baseUrl, apiKey },
      egress: proxyUrl ? { proxyUrl, noProxy: (env.NO_PROXY ?? env.no_proxy ?? '').split(',').map((h) => h.trim()).filter(Boolean) } : undefined,
      dirs,
      path: env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      maxRetries: config.maxRetries,
      isRoot: process.getuid?.() === 0,
      sessionStore: new BerthSessionStore(),
      abortController,
    });
    let result: Extract<SDKMessage, { type: 'result' }> | undefined;
    for await (const message of query({ prompt, options })) if (message.type === 'result') result = message;
    if (!result || result.subtype !== 'success' || result.is_error) {
      log(`run-once failed: ${result ? result.subtype : 'no result'}`);
      if (result?.subtype === 'success') process.stdout.write(`${result.result}\n`);
      return 1;
    }
    process.stdout.write(`${result.result}\n`);
    return 0;
  } catch (error) {
    log(`run-once failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    if (config.dataDir === undefined) rmSync(root, { recursive: true, force: true });
  }
}
