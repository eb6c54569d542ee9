// buildPodManifest: the pure description of one sandbox pod. Everything security-relevant about
// a sandbox is decided here, so tests/unit/pod-manifest.test.ts can pin it without a server.
// Neighbours: pod-labels.ts (names of labels/annotations), agent-token.ts (the token hash),
// standby-pool.ts and pod-claim.ts (which choose names, states and sessions). Pure: no clock,
// no randomness, no I/O; the caller passes the nonce and the time.

import { createHash } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { standbyAgentEnv, type SandboxProfile } from '../../profile.js';
import {
  ANNOTATION_CLAIMED_AT, ANNOTATION_SESSION_ID, ANNOTATION_TOKEN_KID, ANNOTATION_TOKEN_NONCE,
  LABEL_MANAGED_BY, LABEL_POOL, LABEL_PROFILE, LABEL_SESSION, LABEL_SLOT, LABEL_SPEC_HASH, LABEL_STATE, MANAGED_BY_VALUE, specHash,
  sessionLabelValue, type PodState,
} from './pod-labels.js';

/** Where the writable scratch volumes are mounted; the root filesystem is read-only. */
export const AGENT_HOME_DIR = '/home/agent';
export const AGENT_TMP_DIR = '/tmp';
export const AGENT_WORKSPACE_DIR = '/workspace';
/** UID/GID of the image's unprivileged user (agent-image/Dockerfile). */
export const AGENT_UID = 1000;

export interface PodManifestInput {
  profile: SandboxProfile;
  /** Pod name (DNS label, ≤ 63 chars), chosen by the caller. */
  name: string;
  namespace: string;
  /** Installation label value (LABEL_POOL). */
  pool: string;
  /** Image when the profile names none. */
  defaultImage: string;
  /** Port the agent server listens on inside the pod. */
  agentPort: number;
  state: PodState;
  /** Pool slot for standbys (see standby-pool.ts). */
  slot?: number;
  /** Session for a pod created already claimed (a cold start). */
  session?: { id: string; claimedAtIso: string };
  /** Key id and nonce of the token derivation (public), and SHA-256 of the token. */
  token: { kid: string; nonce: string; sha256Hex: string };
  /** Non-secret, tenant-independent environment (egress gateway URL and the like). */
  env?: Record<string, string>;
}

const DEFAULT_CPU = 0.5;
const DEFAULT_MEMORY_MIB = 1024;
/** Scratch sizes: enough for a repo checkout and the CLI's caches; eviction beyond, not a full node disk. */
const WORKSPACE_SIZE = '2Gi';
const HOME_SIZE = '512Mi';
const TMP_SIZE = '512Mi';

/** The LABEL_SPEC_HASH a pod built from this input carries (see pod-labels.ts specHash). */
export function podSpecHash(input: Pick<PodManifestInput, 'profile' | 'defaultImage' | 'env'>): string {
  return specHash(input.profile as unknown as Record<string, unknown>, input.profile.image ?? input.defaultImage, input.env);
}

export function buildPodManifest(input: PodManifestInput): V1Pod {
  const { profile } = input;
  const labels: Record<string, string> = {
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
    [LABEL_POOL]: input.pool,
    [LABEL_PROFILE]: profile.name,
    [LABEL_STATE]: input.state,
    // NetworkPolicies select on this: 'proxy' pods may reach the egress gateway's proxy port.
    'berth.dev/egress': profile.egress ?? 'proxy',
    [LABEL_SPEC_HASH]: podSpecHash(input),
  };
  if (input.slot !== undefined) labels[LABEL_SLOT] = String(input.slot);
  const annotations: Record<string, string> = {
    [ANNOTATION_TOKEN_KID]: input.token.kid,
    [ANNOTATION_TOKEN_NONCE]: input.token.nonce,
  };
  if (input.session) {
    labels[LABEL_SESSION] = sessionLabelValue(input.session.id);
    annotations[ANNOTATION_SESSION_ID] = input.session.id;
    annotations[ANNOTATION_CLAIMED_AT] = input.session.claimedAtIso;
  }

  const cpu = profile.resources?.cpu ?? DEFAULT_CPU;
  const memoryMiB = profile.resources?.memoryMiB ?? DEFAULT_MEMORY_MIB;
  const limits: Record<string, string> = { memory: `${profile.resources?.memoryLimitMiB ?? memoryMiB}Mi` };
  // No CPU limit unless asked: CFS throttling stalls turns while the node has idle cores.
  if (profile.resources?.cpuLimit !== undefined) limits.cpu = cpuQuantity(profile.resources.cpuLimit);

  const env = [
    ...Object.entries({ ...input.env, ...standbyAgentEnv(profile) }).map(([name, value]) => ({ name, value })),
    { name: 'BERTH_AGENT_HOST', value: '0.0.0.0' },
    { name: 'BERTH_AGENT_PORT', value: String(input.agentPort) },
    // Security control: the pod holds only the token's hash; the token never enters the cluster.
    { name: 'AGENT_AUTH_TOKEN_SHA256', value: input.token.sha256Hex },
    { name: 'HOME', value: AGENT_HOME_DIR },
    { name: 'TMPDIR', value: AGENT_TMP_DIR },
    { name: 'BERTH_AGENT_DATA_DIR', value: AGENT_WORKSPACE_DIR },
  ];

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: input.name, namespace: input.namespace, labels, annotations },
    spec: {
      // A sandbox that dies is failed, never restarted: a restarted agent lost its bootstrap.
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      // Service env vars would tell a tenant's agent about every Service in the namespace.
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 10,
      ...(profile.runtimeClassName ? { runtimeClassName: profile.runtimeClassName } : {}),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: AGENT_UID,
        runAsGroup: AGENT_UID,
        fsGroup: AGENT_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [{
        name: 'agent',
        image: profile.image ?? input.defaultImage,
        imagePullPolicy: 'IfNotPresent',
        ports: [{ name: 'http', containerPort: input.agentPort, protocol: 'TCP' }],
        env,
        resources: { requests: { cpu: cpuQuantity(cpu), memory: `${memoryMiB}Mi` }, limits },
        // TCP, not HTTP: an httpGet probe would need the token in the pod spec to pass /health's auth.
        readinessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 2, failureThreshold: 3 },
        securityContext: {
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          privileged: false,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        },
        volumeMounts: [
          { name: 'home', mountPath: AGENT_HOME_DIR },
          { name: 'tmp', mountPath: AGENT_TMP_DIR },
          { name: 'workspace', mountPath: AGENT_WORKSPACE_DIR },
        ],
      }],
      volumes: [
        { name: 'home', emptyDir: { sizeLimit: HOME_SIZE } },
        { name: 'tmp', emptyDir: { sizeLimit: TMP_SIZE } },
        { name: 'workspace', emptyDir: { sizeLimit: WORKSPACE_SIZE } },
      ],
    },
  };
}

function cpuQuantity(cores: number): string {
  return `${Math.round(cores * 1000)}m`;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** True when `value` may be a label value (profile and pool names must be). */
export function isValidLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/** Profile part of pod names: the name itself when DNS-safe and short, else a stable hash. */
function profileStem(profile: string): string {
  return profile.length <= 16 && DNS_LABEL.test(profile) ? profile : 'p' + createHash('sha256').update(profile).digest('hex').slice(0, 10);
}

/** Deterministic standby name: every replica computes the same one, so a duplicate create is a 409. */
export function standbyPodName(pool: string, profile: string, slot: number, generation: number): string {
  return `${pool}-${profileStem(profile)}-${slot}-${generation}`;
}

/** Cold-start pods are never deduplicated by name: they are bound to one session from birth. */
export function coldPodName(pool: string, profile: string, suffix: string): string {
  return `${pool}-${profileStem(profile)}-c-${suffix}`;
}

/** Validates an installation (pool) name: it prefixes pod names, so it must be a short DNS label. */
export function isValidPoolName(pool: string): boolean {
  return pool.length <= 20 && DNS_LABEL.test(pool);
}
