// SandboxAccess: what a sandbox is told at bootstrap about reaching the model and the network.
// The egress gateway's implementation mints a scoped, expiring session credential per sandbox
// (the real key never enters a sandbox); `directModelAccess` is for a developer pointing
// sandboxes straight at a model server that needs no real key (the offline model).

import type { EgressSettings, ModelEndpoint } from '@berth/protocol';

export interface SandboxGrant {
  model: ModelEndpoint;
  egress?: EgressSettings;
}

export interface SandboxAccess {
  /** Called at claim, before bootstrap. */
  grant(args: { tenant: string; sessionId: string; sandboxId: string }): Promise<SandboxGrant>;
}

export function directModelAccess(baseUrl: string, apiKey = 'offline-model-needs-no-key'): SandboxAccess {
  return { grant: async () => ({ model: { baseUrl, apiKey } }) };
}
