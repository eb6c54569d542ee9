// planStandbys after an upgrade (pure, no server): outdated standbys (another spec hash) keep
// their slots until a current replacement is ready; at most maxSurge slots are replaced at once;
// the spec hash covers image, profile and agent environment but not the pool size.

import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, test } from 'vitest';
import { specHash } from '@berth/orchestrator/kubernetes';
import { standbyPodName } from '@berth/orchestrator/kubernetes';
import { planStandbys } from '@berth/orchestrator/kubernetes';

const profile = { name: 'p', poolSize: 3 };
const NEW = 'new-hash';

function standby(slot: number, generation: number, hash: string, ready: boolean): V1Pod {
  return {
    metadata: {
      name: standbyPodName('pool', 'p', slot, generation),
      resourceVersion: `${slot}${generation}`,
      labels: { 'berth.dev/profile': 'p', 'berth.dev/state': 'standby', 'berth.dev/slot': String(slot), 'berth.dev/spec-hash': hash },
    },
    status: { phase: 'Running', podIP: '127.0.0.9', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

const plan = (pods: V1Pod[], maxSurge = 1) => planStandbys('pool', profile, pods, new Set(), () => true, { specHash: NEW, maxSurge });

describe('planStandbys rollout', () => {
  test('all outdated: one replacement at a time (maxSurge 1), nothing deleted yet', () => {
    const result = plan([0, 1, 2].map((slot) => standby(slot, 0, 'old', true)));
    expect(result.create).toEqual([{ slot: 0, name: standbyPodName('pool', 'p', 0, 1) }]);
    expect(result.remove).toEqual([]);
    expect(plan([0, 1, 2].map((slot) => standby(slot, 0, 'old', true)), 2).create.map((c) => c.slot)).toEqual([0, 1]);
  });

  test('a replacement still booting holds the surge; once ready, the outdated standby of its slot goes', () => {
    const old = [0, 1, 2].map((slot) => standby(slot, 0, 'old', true));
    const booting = plan([...old, standby(0, 1, NEW, false)]);
    expect(booting.create).toEqual([]);
    expect(booting.remove).toEqual([]);
    const ready = plan([...old, standby(0, 1, NEW, true)]);
    expect(ready.remove).toEqual([{ name: old[0]!.metadata!.name, resourceVersion: '00', why: 'outdated' }]);
    expect(ready.create.map((c) => c.slot)).toEqual([1]);
  });

  test('current standbys are left alone, and an emptied slot is refilled outside the surge budget', () => {
    const result = plan([standby(0, 0, NEW, true), standby(1, 0, 'old', true)]);
    expect(result.remove).toEqual([]);
    expect(result.create.map((c) => c.slot).sort()).toEqual([1, 2]);
  });

  test('the spec hash changes with image, profile fields and agent env, not with pool size', () => {
    const base = specHash({ name: 'p', poolSize: 2 }, 'img:1', { A: '1' });
    expect(specHash({ name: 'p', poolSize: 5 }, 'img:1', { A: '1' })).toBe(base);
    expect(specHash({ name: 'p', poolSize: 2 }, 'img:2', { A: '1' })).not.toBe(base);
    expect(specHash({ name: 'p', poolSize: 2, resources: { cpu: 1 } }, 'img:1', { A: '1' })).not.toBe(base);
    expect(specHash({ name: 'p', poolSize: 2 }, 'img:1', { A: '2' })).not.toBe(base);
  });
});
