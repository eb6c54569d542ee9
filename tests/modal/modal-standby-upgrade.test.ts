// An upgrade that changes the agent image on Modal: the new backend finds the old standbys in
// the same pool (the pool key is the profile's name; the spec hash tells definitions apart) and
// replaces them gradually, never more than `recycleMaxSurge` extra standbys running at once
// (checked at every change the fake control plane sees), and leaves the sandbox a session had
// claimed before the upgrade alone. The Kubernetes twin is tests/kubernetes/standby-upgrade.test.ts.
import { expect, test } from 'vitest';
import { MemoryStandbyRegistry } from '@berth/gateway';
import { waitForHealth } from '@berth/orchestrator';
import { decodeStandbyData, MODAL_TAGS } from '@berth/orchestrator/modal';
import { waitFor } from '../fixtures/wait-for.js';
import { newModalBackend, TEST_AGENT_IMAGE, useFakeModal } from '../fixtures/fake-modal/modal-backend-harness.js';

const modal = useFakeModal();

const POOL = 3;
const MAX_SURGE = 1;
const APP = 'standby-upgrade';
const profile = { name: 'upgrade', poolSize: POOL };

test('after an image upgrade, outdated standbys are replaced at most MAX_SURGE at a time; the claimed sandbox is untouched', async () => {
  const registry = new MemoryStandbyRegistry();
  const fake = modal().controlPlane;
  const appId = () => fake.apps.get(`main/${APP}`);
  const standbys = () => fake.running().filter((s) => s.appId === appId() && s.tags[MODAL_TAGS.state] === 'standby');
  const registered = async (key: string) => (await registry.listStandbys(key)).map((e) => decodeStandbyData(e.data)?.specHash);

  // 'keep': the old backend leaves its sandboxes to the next one, as a replica does in a rollout.
  const before = await newModalBackend({ profiles: [profile], standbys: registry, appName: APP, agentImage: `${TEST_AGENT_IMAGE}-1.0.0`, onStop: 'keep', maintenanceIntervalMs: 200 });
  await before.start();
  const key = before.standbyRegistryKey('upgrade')!;
  const oldHash = before.standbySpecHash('upgrade')!;
  let claimed;
  try {
    await waitFor(`${POOL} ready standbys of the old image`, async () => (await before.pool())[0]!.ready === POOL, { timeoutMs: 120_000 });
    claimed = await before.claim('kept-across-upgrade', 'upgrade');
    await waitFor(`the pool refilled to ${POOL}`, async () => (await before.pool())[0]!.ready === POOL, { timeoutMs: 120_000 });
  } finally {
    await before.stop();
  }
  expect(await registered(key)).toEqual([oldHash, oldHash, oldHash]);
  expect(standbys().map((s) => s.tags[MODAL_TAGS.specHash])).toEqual([oldHash, oldHash, oldHash]);
  const claimedSandbox = fake.sandboxes.get(claimed.sandboxId)!;
  expect(claimedSandbox.tags[MODAL_TAGS.specHash]).toBe(oldHash);
  const claimedTags = { ...claimedSandbox.tags };

  // From here on, at every change: running standbys never exceed POOL + MAX_SURGE, and the
  // claimed sandbox keeps its tags and keeps running.
  let peak = standbys().length;
  const claimedChanges: string[] = [];
  const check = () => {
    peak = Math.max(peak, standbys().length);
    if (claimedSandbox.result !== null) claimedChanges.push('ended');
    if (JSON.stringify(claimedSandbox.tags) !== JSON.stringify(claimedTags)) claimedChanges.push('retagged');
  };
  fake.onChange.add(check);

  const after = await newModalBackend({ profiles: [profile], standbys: registry, appName: APP, agentImage: `${TEST_AGENT_IMAGE}-1.1.0`, recycleMaxSurge: MAX_SURGE, maintenanceIntervalMs: 200 });
  const newHash = after.standbySpecHash('upgrade')!;
  expect(after.standbyRegistryKey('upgrade')).toBe(key);
  expect(newHash).not.toBe(oldHash);
  await after.start();
  try {
    await waitFor('every standby rebuilt from the new image and registered', async () => {
      const running = standbys();
      const hashes = await registered(key);
      return running.length === POOL && running.every((s) => s.tags[MODAL_TAGS.specHash] === newHash) && hashes.length === POOL && hashes.every((h) => h === newHash);
    }, { timeoutMs: 180_000 });
    fake.onChange.delete(check);

    expect(peak, 'standbys running at once during the replacement').toBeLessThanOrEqual(POOL + MAX_SURGE);
    expect(peak, 'a replacement booted beside an outdated standby').toBe(POOL + MAX_SURGE);
    expect(claimedChanges).toEqual([]);
    expect(claimedSandbox.result).toBeNull();
    // Its agent still answers where it ran.
    await expect(waitForHealth(claimed, { timeoutMs: 10_000 })).resolves.toBeDefined();

    // A claim after the upgrade gets a standby of the new definition, tagged as such.
    const fresh = await after.claim('after-upgrade', 'upgrade');
    expect(fresh.outcome).toBe('warm');
    expect(fake.sandboxes.get(fresh.sandboxId)?.tags).toMatchObject({ [MODAL_TAGS.specHash]: newHash, [MODAL_TAGS.state]: 'claimed' });
  } finally {
    fake.onChange.delete(check);
    await after.stop();
  }
}, 300_000);
