// The adapter edge to the Kubernetes API: the only module that touches @kubernetes/client-node
// (loaded with `await import()`, so other backends never load it). It speaks pods in one
// namespace, and nothing else: no Secrets, no Leases (see README.md, RBAC). Here live the two
// transport policies every caller shares: a 429 is waited out (Retry-After) and retried, because
// the server did not act on it; every other failure is thrown as KubeApiError for the caller to
// judge, because whether a retry is safe depends on the operation.

import type { V1Pod } from '@kubernetes/client-node';
import type { KubeApiMetrics } from './kube-metrics.js';

export class KubeApiError extends Error {
  /** HTTP status, or undefined when the request never got one (network, abort). */
  readonly status: number | undefined;
  readonly reason: string | undefined;
  constructor(status: number | undefined, reason: string | undefined, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
  }
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface PodApi {
  list(labelSelector: string): Promise<{ items: V1Pod[]; resourceVersion: string }>;
  /** Starts a watch from `resourceVersion`; returns a function that aborts it. `onDone` runs once. */
  watch(labelSelector: string, resourceVersion: string, onEvent: (type: WatchEventType, object: unknown) => void, onDone: (error: unknown) => void): Promise<() => void>;
  create(pod: V1Pod): Promise<V1Pod>;
  /** RFC 6902 JSON Patch (application/json-patch+json). */
  patch(name: string, ops: readonly JsonPatchOp[]): Promise<V1Pod>;
  /** Deletes; with `resourceVersion`, only if the pod is still at that version (else 409). */
  delete(name: string, options?: { resourceVersion?: string; gracePeriodS?: number }): Promise<'deleted' | 'absent'>;
}

export type JsonPatchOp =
  | { op: 'test' | 'add' | 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

export interface KubeApiOptions {
  namespace: string;
  /** kubeconfig file; unset = in-cluster service account. */
  kubeconfigPath?: string;
  metrics: KubeApiMetrics;
  /** Aborts Retry-After waits when the backend stops. */
  signal: AbortSignal;
  /** Retries after 429. Default 5: beyond that the API server is shedding load for real. */
  max429Retries?: number;
  /** Cap on one Retry-After wait in ms. Default 10 000, so a stop is never held for long. */
  maxRetryAfterMs?: number;
}

export async function createPodApi(options: KubeApiOptions): Promise<PodApi> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  if (options.kubeconfigPath) kc.loadFromFile(options.kubeconfigPath);
  else kc.loadFromCluster();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const watcher = new k8s.Watch(kc);
  const { namespace, metrics, signal } = options;
  const max429Retries = options.max429Retries ?? 5;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 10_000;

  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        const status = statusOf(error);
        metrics.apiError(status === undefined ? 'network' : String(status));
        if (status === 429 && attempt < max429Retries && !signal.aborted) {
          await sleep(Math.min(maxRetryAfterMs, retryAfterMs(error)), signal);
          continue;
        }
        throw toKubeApiError(what, error);
      }
    }
  };

  return {
    async list(labelSelector) {
      const list = await call('list pods', () => core.listNamespacedPod({ namespace, labelSelector }));
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    async watch(labelSelector, resourceVersion, onEvent, onDone) {
      const controller = await watcher.watch(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
        { labelSelector, resourceVersion, allowWatchBookmarks: true },
        (type, object) => onEvent(type as WatchEventType, object),
        (error: unknown) => {
          if (error && !isAbort(error)) metrics.apiError(statusOf(error) === undefined ? 'network' : String(statusOf(error)));
          onDone(error && !isAbort(error) ? toKubeApiError('watch pods', error) : null);
        },
      );
      return () => controller.abort();
    },
    create(pod) {
      return call('create pod', () => core.createNamespacedPod({ namespace, body: pod }));
    },
    patch(name, ops) {
      return call('patch pod', () => core.patchNamespacedPod({ namespace, name, body: ops }));
    },
    async delete(name, opts = {}) {
      try {
        await call('delete pod', () => core.deleteNamespacedPod({
          namespace,
          name,
          body: {
            ...(opts.gracePeriodS !== undefined ? { gracePeriodSeconds: opts.gracePeriodS } : {}),
            ...(opts.resourceVersion ? { preconditions: { resourceVersion: opts.resourceVersion } } : {}),
          },
        }));
        return 'deleted';
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) return 'absent';
        throw error;
      }
    },
  };
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

function retryAfterMs(error: unknown): number {
  const headers = (error as { headers?: Record<string, string> }).headers ?? {};
  const seconds = Number(headers['retry-after'] ?? headers['Retry-After']);
  // No or bad header: one second, the API server's own default for priority-and-fairness.
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 1000;
}

function toKubeApiError(what: string, error: unknown): KubeApiError {
  if (error instanceof KubeApiError) return error;
  const status = statusOf(error);
  const body = (error as { body?: unknown }).body;
  const parsed = typeof body === 'string' ? safeParse(body) : body;
  const reason = typeof parsed === 'object' && parsed !== null && typeof (parsed as { reason?: unknown }).reason === 'string'
    ? (parsed as { reason: string }).reason
    : undefined;
  // The message names the call and the status only: API bodies may echo object content.
  return new KubeApiError(status, reason, `kubernetes ${what} failed${status ? ` (${status}${reason ? ` ${reason}` : ''})` : ' (no response)'}`, { cause: error });
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isAbort(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
