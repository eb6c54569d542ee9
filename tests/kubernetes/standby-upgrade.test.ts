// An upgrade that changes the agent image: the new gateway replaces the standbys built from the
// old image gradually, never more than `recycleMaxSurge` extra pods at once (checked on every
// event the API server emits), never dropping the pool below its size once a replacement is
// ready, and leaves the sandbox a session had claimed before the upgrade alone.

import { expect, test } from 'vitest';
import { LABEL_SPEC_HASH } from '@berth/orchestrator/kubernetes';
import { podSpecHash } from '@berth/orchestrator/kubernetes';
import { waitForHealth } from '@berth/orchestrator';
import type { Pod } from '../fixtures/fake-kube/index.js';
import { waitFor } from '../fixtures/wait-for.js';
import { openKubeWorld } from './kube-test-world.js';

const POOL = 3;
const MAX_SURGE = 1;
const profile = { name: 'upgrade', poolSize: POOL };

test('after an image upgrade, outdated standbys are replaced one slot at a time; the claimed sandbox is untouched', async () => {
  const world = await openKubeWorld({ maxConcurrentStarts: 4 });
  try {
    const standbys = (): Pod[] => world.kube.pods().filter((p) => p.metadata.labels?.['berth.dev/state'] === 'standby' && !p.metadata.deletionTimestamp && p.status?.phase !== 'Failed');
    const oldHash = podSpecHash({ profile, defaultImage: 'berth/agent:1.0.0' });
    const newHash = podSpecHash({ profile, defaultImage: 'berth/agent:1.1.0' });
    expect(newHash).not.toBe(oldHash);

    const before = world.newReplica([profile], { agentImage: 'berth/agent:1.0.0' });
    await before.start();
    await waitFor(`${POOL} ready standbys of the old image`, async () => (await before.pool())[0]!.ready === POOL, { timeoutMs: 120_000 });
    const claimed = await before.claim('kept-across-upgrade', 'upgrade');
    await waitFor(`the pool refilled to ${POOL}`, async () => (await before.pool())[0]!.ready === POOL, { timeoutMs: 120_000 });
    const claimedPod = world.kube.store.get(world.kube.namespace, claimed.sandboxId)!;
    expect(claimedPod.metadata.labels?.[LABEL_SPEC_HASH]).toBe(oldHash);
    expect(standbys().map((p) => p.metadata.labels?.[LABEL_SPEC_HASH])).toEqual([oldHash, oldHash, oldHash]);
    await before.stop(); // the old replica is gone before the new one starts, as in a rollout

    // From here on, every stored version of every pod: live unclaimed standbys never exceed
    // POOL + MAX_SURGE, and the claimed pod is never modified or deleted.
    let peakStandbys = 0;
    const claimedEvents: string[] = [];
    world.kube.store.watchers.add({
      namespace: undefined,
      selector: [],
      send: (type, pod: Pod) => {
        if (pod.metadata.name === claimed.sandboxId) claimedEvents.push(type);
        peakStandbys = Math.max(peakStandbys, standbys().length);
      },
    });

    const after = world.newReplica([profile], { agentImage: 'berth/agent:1.1.0', recycleMaxSurge: MAX_SURGE });
    await after.start();
    await waitFor('every standby rebuilt from the new image and ready', async () => {
      const pods = standbys();
      return pods.length === POOL && pods.every((p) => p.metadata.labels?.[LABEL_SPEC_HASH] === newHash) && (await after.pool())[0]!.ready === POOL;
    }, { timeoutMs: 180_000 });

    expect(peakStandbys, 'standbys alive at once during the replacement').toBeLessThanOrEqual(POOL + MAX_SURGE);
    expect(peakStandbys, 'a replacement booted beside an outdated standby').toBe(POOL + MAX_SURGE);
    expect(claimedEvents).toEqual([]);
    const claimedNow = world.kube.store.get(world.kube.namespace, claimed.sandboxId)!;
    expect(claimedNow.metadata.resourceVersion).toBe(claimedPod.metadata.resourceVersion);
    expect(claimedNow.metadata.deletionTimestamp).toBeUndefined();
    // Its agent still answers where it ran.
    await expect(waitForHealth(claimed, { timeoutMs: 10_000 })).resolves.toBeDefined();
  } finally {
    await world.close();
  }
}, 300_000);
