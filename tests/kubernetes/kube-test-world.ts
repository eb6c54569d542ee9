// Shared by the kubernetes project's tests: a fake API server plus KubernetesBackend instances
// on it (several = several gateway replicas), torn down together.

import { KubernetesBackend, type KubernetesBackendOptions } from '@berth/orchestrator/kubernetes';
import type { SandboxProfile } from '@berth/orchestrator';
import { startFakeKube, type FakeKube, type FakeKubeOptions } from '../fixtures/fake-kube/index.js';

/** One key shared by every replica of a test world, as BERTH_CREDENTIAL_KEYS would be. */
export const TEST_TOKEN_KEYS = [{ kid: 'k1', secret: Buffer.alloc(32, 7) }];

export interface KubeWorld {
  kube: FakeKube;
  newReplica(profiles: SandboxProfile[], extra?: Partial<KubernetesBackendOptions>): KubernetesBackend;
  close(): Promise<void>;
}

export async function openKubeWorld(options: FakeKubeOptions = {}): Promise<KubeWorld> {
  const kube = await startFakeKube(options);
  const replicas: KubernetesBackend[] = [];
  return {
    kube,
    newReplica(profiles, extra = {}) {
      const backend = new KubernetesBackend({
        profiles,
        namespace: kube.namespace,
        kubeconfigPath: kube.kubeconfigPath,
        tokenKeys: TEST_TOKEN_KEYS,
        // Test-sized bounds; the defaults are sized for real clusters (README.md).
        coldStartTimeoutMs: 30_000,
        sweepGraceMs: 0,
        ...extra,
      });
      replicas.push(backend);
      return backend;
    },
    async close() {
      await Promise.allSettled(replicas.map((r) => r.stop()));
      await kube.close();
    },
  };
}

