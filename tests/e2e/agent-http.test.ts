// The gateway's requests to a sandbox's agent server (orchestrator/src/agent-http.ts), against a
// real agent server and the real CLI on the offline model, reached the two ways backends hand
// out: plain http (local, Kubernetes) and https through a TLS-terminating front door, as Modal's
// default encrypted tunnel is. It pins:
// - an https sandbox URL works for every request (the turn's open used http.request alone and
//   threw ERR_INVALID_PROTOCOL on it, so no turn could start on an encrypted Modal tunnel);
// - a new session's claim probe, bootstrap and first turn share one connection (each new one
//   crosses two bridges on an isolated local sandbox, or a TLS handshake through a tunnel).

import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startOfflineModel, type OfflineModel } from '@berth/cli/offline-model';
import { agentHttpAgents, bootstrapSandbox, interruptTurn, openTurnStream, probeHealth, type SandboxEndpoint } from '@berth/orchestrator';
import { openAgentTurn, type AgentTurn } from '@berth/gateway/sessions';
import { bootstrapBody, readIncoming, startRig, stopRig, TOKEN, type Rig } from '../fixtures/offline-model-agent.js';
import { startFrontDoor, type FrontDoor } from '../fixtures/front-door.js';
import { hasOpenssl, makeSelfSignedCert } from '../fixtures/tls-server.js';

/** Reads an SSE response to its end: the event names of its frames. */
async function events(stream: Readable): Promise<string[]> {
  return (await readIncoming(stream)).map((frame) => frame.event ?? 'message');
}

let model: OfflineModel;
beforeAll(async () => {
  model = await startOfflineModel();
});
afterAll(async () => {
  await model?.close();
});

describe.each([
  { scheme: 'http', tls: false },
  { scheme: 'https', tls: true },
])('gateway → agent over $scheme', ({ tls: useTls }) => {
  let rig: Rig | undefined;
  let door: FrontDoor;
  let endpoint: SandboxEndpoint & { profile: string; claimedAt: number };

  beforeAll(async () => {
    if (useTls && !hasOpenssl()) throw new Error('openssl is needed for the https case (npm test installs it)');
    const credentials = useTls ? makeSelfSignedCert(['localhost']) : undefined;
    // The front door's certificate is its own CA; a real tunnel's is publicly trusted.
    if (credentials) agentHttpAgents.https.options.ca = credentials.cert;
    rig = await startRig({ BERTH_AGENT_MAX_RETRIES: '1' }, model);
    const agent = new URL(rig.agent.url);
    door = await startFrontDoor({ host: agent.hostname, port: Number(agent.port) }, credentials);
    endpoint = { sandboxId: 'sb-agent-http', url: door.url, authToken: TOKEN, profile: 'default', claimedAt: Date.now() };
  }, 60_000);

  afterAll(async () => {
    await door?.close();
    await stopRig(rig, false);
    delete agentHttpAgents.https.options.ca;
  });

  test('a claim probe, the bootstrap and the first turn share one connection, and the turn streams to its end', async () => {
    expect(await probeHealth(endpoint, 10_000)).toMatchObject({ status: 'ok' });
    await bootstrapSandbox(endpoint, bootstrapBody(model, { sessionId: 'sess-http' }));
    const turn: AgentTurn = await openAgentTurn(endpoint, 'sess-http', 'hi', { turn: 1, signal: new AbortController().signal });
    expect(turn.kind).toBe('stream');
    const names = await events((turn as Extract<AgentTurn, { kind: 'stream' }>).response);
    expect(names.at(-1)).toBe('done');
    expect(names).toContain('message');
    expect(door.connections()).toBe(1);

    // Re-attach after the end, and an interrupt of an idle session: the same pool, the same answers.
    const again = await openTurnStream(endpoint, 'sess-http', 1);
    expect(again.kind).toBe('stream');
    expect((await events((again as Extract<typeof again, { kind: 'stream' }>).response)).at(-1)).toBe('done');
    expect(await interruptTurn(endpoint, 'sess-http')).toEqual({ interrupted: false });
  }, 120_000);

  test('a sandbox that is not this session\'s is classified lost, not failed', async () => {
    const turn = await openAgentTurn(endpoint, 'another-session', 'hi', { turn: 1, signal: new AbortController().signal });
    expect(turn.kind).toBe('lost');
  }, 30_000);
});
