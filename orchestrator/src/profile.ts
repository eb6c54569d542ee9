// A sandbox profile: the shape of one warm pool. Pools are kept per profile, because a standby
// can only serve sessions whose sandbox needs match what it was created with (image, resources,
// egress mode). Tenant data (model, prompt, tools) is NOT part of it: that arrives at bootstrap.
// `agent` is the one exception, and it holds no session: the agent start settings (system prompt,
// tools, max turns) its standbys pre-start the Agent SDK's CLI with before any claim, so pools
// are keyed by what the SDK fixes at start-up.

import { agentStartSettings, type AgentProfile } from '@berth/protocol';

export type EgressMode = 'proxy' | 'none';

export interface SandboxResources {
  /** CPU cores requested (Kubernetes requests, Modal `cpu`). Default 0.5. */
  cpu?: number;
  /** Memory in MiB. The CLI alone holds ~230 MB, so below 512 a turn risks OOM. Default 1024. */
  memoryMiB?: number;
  /** Hard limits when they differ from the requests. */
  cpuLimit?: number;
  memoryLimitMiB?: number;
}

export interface SandboxProfile {
  name: string;
  /** Standbys kept ready. 0 disables the pool: every claim cold-starts. */
  poolSize: number;
  /** Agent image: a registry tag (Kubernetes, Modal) or ignored by the local backend. */
  image?: string;
  resources?: SandboxResources;
  /** 'proxy': egress only through the egress gateway; 'none': no network beyond the model proxy. */
  egress?: EgressMode;
  /** Kubernetes only: RuntimeClass for stronger isolation (gvisor, kata). */
  runtimeClassName?: string;
  /** Modal only: extra options, see backends/modal/README.md. */
  modal?: ModalProfileOptions;
  /**
   * The agent profile whose start settings (agentStartSettings: system prompt, tools, max turns,
   * policy presence, bypass) this pool's standbys pre-start their CLI with. Sessions whose
   * profile has the same start settings skip the CLI's start-up on their first turn; others
   * start it cold. Unset: the empty profile (the SDK's defaults).
   */
  agent?: AgentProfile;
}

/** The environment that tells a standby of `profile` what to pre-start its CLI with. */
export function standbyAgentEnv(profile: Pick<SandboxProfile, 'agent'>): Record<string, string> {
  return profile.agent ? { BERTH_AGENT_STANDBY_PROFILE: JSON.stringify(agentStartSettings(profile.agent)) } : {};
}

export interface ModalProfileOptions {
  /** Named image (`modal.images.fromName`) instead of a registry tag. */
  imageName?: string;
  gpu?: string;
  region?: string | string[];
  /** Volume name → mount path. */
  volumes?: Record<string, string>;
  /** Modal Secret names mounted as environment variables. */
  secrets?: string[];
  /** Sandbox lifetime in ms (whole seconds). Standbys are recycled before it runs out. */
  timeoutMs?: number;
  inboundCidrAllowlist?: string[];
}

export const DEFAULT_PROFILE_NAME = 'default';

export function defaultProfile(poolSize = 2): SandboxProfile {
  return { name: DEFAULT_PROFILE_NAME, poolSize, egress: 'proxy', resources: { cpu: 0.5, memoryMiB: 1024 } };
}
