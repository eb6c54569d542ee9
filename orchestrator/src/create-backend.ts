// createBackend: the one place that picks a SandboxBackend implementation from configuration.
// Each backend is loaded with `await import()`, so a local run never loads
// @kubernetes/client-node or modal (both heavy, and both reach for cluster/cloud config on load).
// It does not read the environment: the gateway's loadConfig builds a BackendConfig.

import type { SandboxBackend } from './backend.js';
import type { LocalProcessBackendOptions } from './backends/local/local-process-backend.js';

/**
 * Options of the Kubernetes backend, passed through untouched. Placeholder type until
 * backends/kubernetes/kubernetes-backend.ts exports its own options type.
 */
export type KubernetesBackendConfigOptions = Record<string, unknown>;
/** Options of the Modal backend, passed through untouched. Placeholder, as above. */
export type ModalBackendConfigOptions = Record<string, unknown>;

export type BackendConfig =
  | { kind: 'local'; options: LocalProcessBackendOptions }
  | { kind: 'kubernetes'; options: KubernetesBackendConfigOptions }
  | { kind: 'modal'; options: ModalBackendConfigOptions };

type BackendClass = new (options: never) => SandboxBackend;

// Computed specifiers: tsc does not resolve them, so this file compiles whether or not the
// Kubernetes and Modal modules exist yet; at run time they resolve next to this file in dist/.
const KUBERNETES_MODULE = './backends/kubernetes/kubernetes-backend.js';
const MODAL_MODULE = './backends/modal/modal-backend.js';

/** Builds (does not start) the configured backend. Throws if its module or class is missing. */
export async function createBackend(config: BackendConfig): Promise<SandboxBackend> {
  switch (config.kind) {
    case 'local': {
      const { LocalProcessBackend } = await import('./backends/local/local-process-backend.js');
      return new LocalProcessBackend(config.options);
    }
    case 'kubernetes': {
      const KubernetesBackend = await loadClass(KUBERNETES_MODULE, 'KubernetesBackend');
      return new KubernetesBackend(config.options as never);
    }
    case 'modal': {
      const ModalBackend = await loadClass(MODAL_MODULE, 'ModalBackend');
      return new ModalBackend(config.options as never);
    }
    default: {
      const unknown: never = config;
      throw new Error(`unknown backend kind ${JSON.stringify((unknown as { kind?: unknown }).kind)}`);
    }
  }
}

async function loadClass(specifier: string, exportName: string): Promise<BackendClass> {
  const module = (await import(specifier)) as Record<string, unknown>;
  const exported = module[exportName];
  if (typeof exported !== 'function') throw new Error(`${specifier} does not export class ${exportName}`);
  return exported as BackendClass;
}
