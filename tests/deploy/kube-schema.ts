// Validates rendered objects against the Kubernetes OpenAPI schema (kubernetes-models' compiled
// validators) and, beyond what those check, rejects fields the schema does not know: the
// validators read every property they know by name, so a Proxy that records reads leaves the
// unknown ones (a typo like `readinesProbe`) unread. Kinds outside kubernetes-models (CRDs such
// as ServiceMonitor) are not handled here; tests check those structurally.
import type { KubeObject } from './render-chart.js';

type Validator = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string; keyword: string; params: unknown }> | null };

/** kubernetes-models schema module for an apiVersion + kind, e.g. IoK8sApiAppsV1Deployment. */
export function schemaModuleName(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  const groupName = group!.split('.')[0]!; // rbac.authorization.k8s.io -> rbac
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  return `IoK8sApi${cap(groupName)}${cap(version!)}${kind}`;
}

async function loadValidator(apiVersion: string, kind: string): Promise<Validator> {
  const name = schemaModuleName(apiVersion, kind);
  const mod = (await import(`kubernetes-models/_schemas/${name}`)) as { validate: Validator };
  return mod.validate;
}

function track(value: unknown, at: string, seen: Set<string>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    return new Proxy(value, {
      get(target, key, receiver) {
        const v: unknown = Reflect.get(target, key, receiver);
        return typeof key === 'string' && /^\d+$/.test(key) ? track(v, `${at}/${key}`, seen) : v;
      },
    });
  }
  return new Proxy(value as object, {
    get(target, key, receiver) {
      const v: unknown = Reflect.get(target, key, receiver);
      if (typeof key !== 'string') return v;
      seen.add(`${at}/${key}`);
      return track(v, `${at}/${key}`, seen);
    },
    // Maps (labels, resources.limits) are iterated, not read by name: iteration counts as known.
    ownKeys(target) {
      const keys = Reflect.ownKeys(target);
      for (const key of keys) if (typeof key === 'string') seen.add(`${at}/${key}`);
      return keys;
    },
  });
}

function allPaths(value: unknown, at: string, out: string[]): string[] {
  if (value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    value.forEach((v, i) => allPaths(v, `${at}/${i}`, out));
    return out;
  }
  for (const [key, v] of Object.entries(value)) {
    out.push(`${at}/${key}`);
    allPaths(v, `${at}/${key}`, out);
  }
  return out;
}

/** Problems with one object: schema errors and unknown fields, as readable strings. Empty = valid. */
export async function kubeSchemaProblems(obj: KubeObject): Promise<string[]> {
  const where = `${obj.kind}/${obj.metadata?.name}`;
  const validate = await loadValidator(obj.apiVersion, obj.kind);
  const seen = new Set<string>();
  const ok = validate(track(obj, '', seen));
  if (!ok) {
    return (validate.errors ?? []).map((e) => `${where}: ${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
  }
  return allPaths(obj, '', [])
    .filter((p) => !seen.has(p))
    // A field is unknown once; its children are then unread too and add nothing.
    .filter((p, _i, all) => !all.some((parent) => p.startsWith(`${parent}/`)))
    .map((p) => `${where}: unknown field ${p}`);
}
