// buildSandboxParams: the pure translation of a berth SandboxProfile into one Modal sandbox
// definition (image, command, ports, readiness probe, lifetime, resources, GPU, volumes,
// secrets, region, network lock, tags). No I/O and no `modal` import at runtime: the adapter
// (modal-platform.ts) turns the names in the spec into Modal objects. Unit tests pin every option.
//
// Security controls decided here: egress is locked to the egress gateway's CIDRs (never OPEN),
// the per-sandbox AGENT_AUTH_TOKEN is the only secret in the environment, and no sandbox carries
// an idle timeout (a waiting standby has no activity Modal would count, so one would reap it).

import type { SandboxCreateParams } from 'modal';
import { specHash } from '../../pool/spec-hash.js';
import { standbyAgentEnv, type SandboxProfile } from '../../profile.js';

/** Tag names on every berth sandbox. Values are strings; Modal's list filters on exact matches. */
export const MODAL_TAGS = {
  /** Marks a berth sandbox (value 'agent'); sweeps only ever touch sandboxes carrying it. */
  berth: 'berth',
  pool: 'berth-pool',
  state: 'berth-state',
  session: 'berth-session',
  createdAtMs: 'berth-created-ms',
  claimedAtMs: 'berth-claimed-ms',
  /** The definition's spec hash (modalSpecHash): tells standbys of an older definition apart. */
  specHash: 'berth-spec-hash',
} as const;

export const BERTH_TAG_VALUE = 'agent';

export type SandboxState = 'standby' | 'claimed';

/** 'encrypted': Modal terminates TLS (https tunnel URL). 'unencrypted': raw TCP tunnel, plain HTTP. */
export type TunnelMode = 'encrypted' | 'unencrypted';

/** Backend-wide settings every profile shares. */
export interface ModalSandboxDefaults {
  /** Registry tag used when a profile names no image. */
  agentImage?: string;
  /** The agent server's command inside the image. */
  agentCommand: string[];
  /** Port the agent server listens on inside the sandbox. */
  agentPort: number;
  /** Sandbox lifetime when the profile sets none, in ms (whole seconds). */
  timeoutMs: number;
  /** CIDRs of the egress gateway as sandboxes see it; the only outbound destinations allowed. */
  egressCidrs: readonly string[];
  tunnel: TunnelMode;
  /** Extra, non-secret environment for the agent server. */
  agentEnv: Readonly<Record<string, string>>;
}

export interface SandboxInstance {
  /** Pool key of the profile (tags the sandbox, so sweeps can tell pools apart). */
  poolKey: string;
  /** Spec hash of the definition the sandbox is built from (modalSpecHash). */
  specHash: string;
  state: SandboxState;
  sessionId?: string;
  authToken: string;
  createdAtMs: number;
  claimedAtMs?: number;
}

export type ImageRef = { kind: 'registry'; tag: string } | { kind: 'named'; name: string };

/** Everything of a create except the Modal objects the adapter resolves by name. */
export interface ModalSandboxSpec {
  image: ImageRef;
  /** Volume mount path → Volume name. */
  volumes: Record<string, string>;
  /** Modal Secret names, mounted as environment variables. */
  secrets: string[];
  readiness: { tcpPort: number };
  params: Omit<SandboxCreateParams, 'volumes' | 'secrets' | 'readinessProbe' | 'proxy' | 'experimentalOutboundPolicy' | 'cloudBucketMounts'>;
}

export function buildSandboxParams(profile: SandboxProfile, defaults: ModalSandboxDefaults, instance: SandboxInstance): ModalSandboxSpec {
  const modal = profile.modal ?? {};
  const resources = profile.resources ?? {};
  const image: ImageRef | null = modal.imageName
    ? { kind: 'named', name: modal.imageName }
    : (profile.image ?? defaults.agentImage)
      ? { kind: 'registry', tag: (profile.image ?? defaults.agentImage) as string }
      : null;
  if (!image) throw new Error(`profile ${profile.name}: no agent image (set profile.image, profile.modal.imageName or BERTH_AGENT_IMAGE)`);

  const params: ModalSandboxSpec['params'] = {
    command: [...defaults.agentCommand],
    env: {
      ...defaults.agentEnv,
      ...standbyAgentEnv(profile),
      BERTH_AGENT_HOST: '0.0.0.0',
      BERTH_AGENT_PORT: String(defaults.agentPort),
      AGENT_AUTH_TOKEN: instance.authToken,
    },
    timeoutMs: modal.timeoutMs ?? defaults.timeoutMs,
    // No idleTimeoutMs, on purpose: see the module header.
    tags: sandboxTags(instance),
    ...(defaults.tunnel === 'encrypted' ? { encryptedPorts: [defaults.agentPort] } : { unencryptedPorts: [defaults.agentPort] }),
    ...networkLock(defaults.egressCidrs, modal.inboundCidrAllowlist),
  };
  if (resources.cpu !== undefined) params.cpu = resources.cpu;
  if (resources.cpuLimit !== undefined) params.cpuLimit = resources.cpuLimit;
  if (resources.memoryMiB !== undefined) params.memoryMiB = resources.memoryMiB;
  if (resources.memoryLimitMiB !== undefined) params.memoryLimitMiB = resources.memoryLimitMiB;
  if (modal.gpu) params.gpu = modal.gpu;
  if (modal.region !== undefined) params.regions = Array.isArray(modal.region) ? [...modal.region] : [modal.region];

  const volumes: Record<string, string> = {};
  for (const [name, mountPath] of Object.entries(modal.volumes ?? {})) volumes[mountPath] = name;
  return { image, volumes, secrets: [...(modal.secrets ?? [])], readiness: { tcpPort: defaults.agentPort }, params };
}

/**
 * Outbound: only the egress gateway (model proxy and forward proxy both live there). Both egress
 * modes get the same lock on Modal, because a CIDR rule cannot tell the model proxy from the
 * forward proxy on one address; 'none' is enforced by the egress gateway refusing to forward.
 * With no egress CIDR configured the sandbox gets no network at all (fail closed, never OPEN);
 * blockNetwork cannot be combined with an inbound allowlist, so then an empty outbound allowlist
 * (which Modal also treats as "block all egress") is used instead.
 */
function networkLock(egressCidrs: readonly string[], inbound: readonly string[] | undefined): Partial<SandboxCreateParams> {
  const lock: Partial<SandboxCreateParams> = {};
  if (egressCidrs.length > 0) lock.outboundCidrAllowlist = [...egressCidrs];
  else if (inbound && inbound.length > 0) lock.outboundCidrAllowlist = [];
  else lock.blockNetwork = true;
  if (inbound && inbound.length > 0) lock.inboundCidrAllowlist = [...inbound];
  return lock;
}

export function sandboxTags(instance: SandboxInstance): Record<string, string> {
  const tags: Record<string, string> = {
    [MODAL_TAGS.berth]: BERTH_TAG_VALUE,
    [MODAL_TAGS.pool]: instance.poolKey,
    [MODAL_TAGS.state]: instance.state,
    [MODAL_TAGS.specHash]: instance.specHash,
    [MODAL_TAGS.createdAtMs]: String(instance.createdAtMs),
  };
  if (instance.sessionId !== undefined) tags[MODAL_TAGS.session] = instance.sessionId;
  if (instance.claimedAtMs !== undefined) tags[MODAL_TAGS.claimedAtMs] = String(instance.claimedAtMs);
  return tags;
}

/**
 * Pool key of a profile: its name, tag-safe (letters, digits, '-' and '_'). It stays the same
 * across upgrades, so one pool holds standbys of the old and the new definition while the old
 * ones are replaced (modal-standby-pool.ts); the spec hash tells them apart.
 */
export function poolKeyFor(profile: SandboxProfile): string {
  return profile.name.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * Spec hash of a profile's sandboxes on Modal: the shared spec hash (pool/spec-hash.ts, the one
 * Kubernetes pods carry) over the profile, the image and the agent environment, plus what else
 * the definition holds (command, port, lifetime, network lock, resources as Modal gets them), so
 * any change to what a standby would be built from makes the old ones outdated. The per-sandbox
 * token and the tags are not part of it.
 */
export function modalSpecHash(profile: SandboxProfile, defaults: ModalSandboxDefaults): string {
  const spec = buildSandboxParams(profile, defaults, { poolKey: '', specHash: '', state: 'standby', authToken: '', createdAtMs: 0 });
  const { tags: _tags, env, ...shape } = spec.params;
  const { AGENT_AUTH_TOKEN: _token, ...agentEnv } = env ?? {};
  const image = spec.image.kind === 'named' ? `modal:${spec.image.name}` : spec.image.tag;
  const { params: _params, image: _image, ...rest } = spec;
  return specHash(profile as unknown as Record<string, unknown>, image, agentEnv, { ...rest, params: shape });
}
