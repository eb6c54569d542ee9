// The store-level bounds as the gateway wires them: BERTH_MAX_TRANSCRIPT_BYTES and
// BERTH_UNBOUND_SESSION_TTL_S through loadConfig; a transcript append at the cap counted by
// berth_gateway_transcript_refusals_total (countRefusals) and reported by the turn's EventWriter
// as `transcriptFull` without retrying. The bounds themselves are pinned per implementation by
// tests/contracts/store/ (transcript-log, session-records).

import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { createMemoryStore } from '@berth/gateway';
import { ConfigError, loadConfig } from '@berth/gateway/testing';
import { createLogger } from '@berth/gateway/testing';
import { createGatewayMetrics } from '@berth/gateway/testing';
import { EventWriter } from '@berth/gateway/sessions';
import { MemoryEventLog } from '@berth/gateway/store';
import { countRefusals } from '@berth/gateway/store';

const line = (uuid: string, text: string) => ({ sdkSessionId: 'sdk', subpath: '', entry: { type: 'user', uuid, message: text } });

describe('store bounds from config', () => {
  test('defaults: 32 MiB of transcript per session, never-bound records expire after 900 s', () => {
    expect(loadConfig({})).toMatchObject({ maxTranscriptBytes: 32 * 1024 * 1024, unboundSessionTtlS: 900 });
    expect(loadConfig({ BERTH_MAX_TRANSCRIPT_BYTES: '1048576', BERTH_UNBOUND_SESSION_TTL_S: '3600' })).toMatchObject({
      maxTranscriptBytes: 1_048_576,
      unboundSessionTtlS: 3600,
    });
  });

  test('out-of-range values are refused, never replaced by the default', () => {
    try {
      loadConfig({ BERTH_MAX_TRANSCRIPT_BYTES: '10', BERTH_UNBOUND_SESSION_TTL_S: '5' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/BERTH_MAX_TRANSCRIPT_BYTES/);
      expect(problems).toMatch(/BERTH_UNBOUND_SESSION_TTL_S/);
    }
  });
});

describe('a transcript at its cap', () => {
  test('is counted once per refused batch and reported by the EventWriter as full, not lost', async () => {
    const first = [line('u1', 'x'.repeat(200))];
    const store = createMemoryStore({ limits: { maxTranscriptBytes: Buffer.byteLength(JSON.stringify(first[0])) } });
    const metrics = createGatewayMetrics();
    const transcripts = countRefusals(store.transcripts, () => metrics.transcriptRefusals.inc());
    const logged: string[] = [];
    const log = createLogger('warn', new Writable({ write: (chunk, _enc, done) => (logged.push(String(chunk)), done()) }));
    const writer = new EventWriter(new MemoryEventLog(), { sessions: store.sessions, transcripts }, 's1', log, { retryMs: 60_000 });
    const batch = (entries: typeof first) => ({ sdkSessionId: 'sdk', subpath: '', entries: entries.map((e) => e.entry) });
    writer.transcript(batch(first));
    writer.transcript(batch([line('u2', 'y')]));
    writer.transcript(batch([line('u3', 'z')]));
    expect(await writer.flush()).toEqual({ transcriptLost: false, framesLost: false, transcriptFull: true });
    expect((await metrics.registry.getSingleMetricAsString('berth_gateway_transcript_refusals_total'))).toMatch(/^berth_gateway_transcript_refusals_total 2$/m);
    expect((await store.transcripts.loadTranscript('s1')).map((e) => e.entry.uuid)).toEqual(['u1']);
    // One warning per stream, naming the knob.
    expect(logged.filter((l) => l.includes('BERTH_MAX_TRANSCRIPT_BYTES'))).toHaveLength(1);
  });
});
