// Two KubernetesBackend instances on one fake API server act as two gateway replicas. 50
// sessions are claimed at once, spread over both, from a pool of 10 (most claims cold-start)
// and of 60 (every claim can be warm). Pinned: no pod is ever bound to two sessions (checked on
// every event the API server emits, not just the end state), no session has two pods, 50
// distinct sandboxes with warm + cold = 50, and after one sweep no pod is left that neither the
// pool nor an owned session accounts for. How many claims are warm out of a pool of 10 is not
// pinned: standbys the pool refills while the burst is still claiming are legitimately warm, and
// how many land in time depends on the machine's speed.

import { describe, expect, test } from 'vitest';
import type { ClaimedSandbox } from '@berth/orchestrator';
import type { Pod } from '../fixtures/fake-kube/index.js';
import { waitFor } from '../fixtures/wait-for.js';
import { openKubeWorld } from './kube-test-world.js';

const SESSION_ANNOTATION = 'berth.dev/session-id';

async function race(poolSize: number): Promise<void> {
  const world = await openKubeWorld({ maxConcurrentStarts: 6 });
  try {
    // Every version of every pod the server ever stores: pod name → sessions it was bound to.
    const boundTo = new Map<string, Set<string>>();
    world.kube.store.watchers.add({
      namespace: undefined,
      selector: [],
      send: (_type, pod: Pod) => {
        const session = pod.metadata.annotations?.[SESSION_ANNOTATION];
        if (!session) return;
        const set = boundTo.get(pod.metadata.name) ?? new Set<string>();
        set.add(session);
        boundTo.set(pod.metadata.name, set);
      },
    });
    const profiles = [{ name: 'race', poolSize }];
    // Up to 60 real agent processes: no standby CLI in them (≈150 MiB and a CPU burst each),
    // which this race is not about; the journey contract runs the pre-started path.
    const lean = { agentEnv: { BERTH_AGENT_PRESTART: '0' } };
    const a = world.newReplica(profiles, lean);
    const b = world.newReplica(profiles, lean);
    await Promise.all([a.start(), b.start()]);
    await waitFor(`${poolSize} ready standbys on both replicas`, async () =>
      (await a.pool())[0]!.ready === poolSize && (await b.pool())[0]!.ready === poolSize, { timeoutMs: 120_000 });
    // Both replicas filled one pool together: exactly poolSize standbys exist, not 2 × poolSize.
    expect(world.kube.pods().filter((p) => p.metadata.labels?.['berth.dev/state'] === 'standby')).toHaveLength(poolSize);

    const sessions = Array.from({ length: 50 }, (_, i) => `race-${i}`);
    const claims: ClaimedSandbox[] = await Promise.all(sessions.map((s, i) => (i % 2 === 0 ? a : b).claim(s, 'race')));

    expect(new Set(claims.map((c) => c.sandboxId)).size).toBe(50);
    for (const [pod, bound] of boundTo) expect([pod, [...bound]]).toEqual([pod, [...bound].slice(0, 1)]);
    const live = (): Pod[] => world.kube.pods().filter((p) => !p.metadata.deletionTimestamp);
    for (const session of sessions) {
      expect(live().filter((p) => p.metadata.annotations?.[SESSION_ANNOTATION] === session).map((p) => p.metadata.name))
        .toEqual([claims[sessions.indexOf(session)]!.sandboxId]);
    }
    const [pa, pb] = [(await a.pool())[0]!, (await b.pool())[0]!];
    const warm = pa.warmClaims + pb.warmClaims;
    expect(warm + pa.coldStarts + pb.coldStarts).toBe(50);
    // The replicas' counters agree with what each claim said it was.
    expect(claims.filter((c) => c.outcome === 'warm')).toHaveLength(warm);
    // With more standbys than sessions a lost race moves on to the next standby, never to a cold start.
    if (poolSize >= 50) expect(warm).toBe(50);

    // Odd sessions are no longer owned (their gateway record is gone): one sweep removes exactly their pods.
    const owned = new Set(sessions.filter((_, i) => i % 2 === 0));
    const report = await b.sweep(async (session) => owned.has(session));
    expect(report.removed.sort()).toEqual(claims.filter((c, i) => i % 2 === 1).map((c) => c.sandboxId).sort());
    const claimedLeft = live().filter((p) => p.metadata.labels?.['berth.dev/state'] === 'claimed');
    expect(claimedLeft.map((p) => p.metadata.annotations?.[SESSION_ANNOTATION]).sort()).toEqual([...owned].sort());
    // Nothing else is left over: every live pod is a standby of the pool or an owned session's.
    expect(live().every((p) => p.metadata.labels?.['berth.dev/state'] === 'standby' || owned.has(p.metadata.annotations?.[SESSION_ANNOTATION] ?? ''))).toBe(true);
    await waitFor('the pool to settle back at its target', () => live().filter((p) => p.metadata.labels?.['berth.dev/state'] === 'standby').length === poolSize, { timeoutMs: 60_000 });
  } finally {
    await world.close();
  }
}

describe('two replicas claiming 50 sessions at once', () => {
  test('from a pool of 10', () => race(10), 240_000);
  test('from a pool of 60', () => race(60), 300_000);
});
