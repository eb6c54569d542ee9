// What a sandbox needs to use the egress gateway, built from its public URL and the session
// credential: the bootstrap's `model` and `egress` fields, and the environment variables the agent
// server gives the Agent SDK. Pure. Neighbours: stack.ts's claim hook (mints, then bootstraps),
// agent-image (turns the bootstrap into the SDK's env).
//
// Why each variable (agent-sdk-offline.md §7, §11):
// - ANTHROPIC_BASE_URL + ANTHROPIC_API_KEY: the CLI's model calls reach the reverse proxy with
//   the credential as x-api-key; the real key never enters the sandbox.
// - HTTPS_PROXY/HTTP_PROXY in upper AND lower case: curl reads only lowercase http_proxy for
//   http:// URLs. The credential rides as the proxy password (Basic), which the CLI and curl
//   send unprompted.
// - NO_PROXY/no_proxy naming the gateway host: otherwise the CLI sends even plain-http model
//   calls through the proxy (the gateway would still serve them, but one hop is cheaper).

import { egressEndpoint, type EgressSettings, type ModelEndpoint } from '@berth/protocol';

export interface SandboxEgressEnvInput {
  /** BERTH_EGRESS_PUBLIC_URL, e.g. http://127.0.0.1:8081 or http://berth-egress.berth:8081. */
  publicUrl: string;
  /** The minted session credential (a JWT). */
  credential: string;
}

/** The bootstrap request's `model` and `egress` fields. */
export function sandboxEgressSettings(input: SandboxEgressEnvInput): { model: ModelEndpoint; egress: EgressSettings } {
  // The mapping lives in protocol: a standby's agent builds the same from its own egress key.
  return egressEndpoint(input.publicUrl, input.credential);
}

/** The environment for the Agent SDK's CLI (merge over PATH, HOME etc.; options.env replaces). */
export function sandboxEgressEnv(input: SandboxEgressEnvInput): Record<string, string> {
  const { model, egress } = sandboxEgressSettings(input);
  const noProxy = egress.noProxy.join(',');
  return {
    ANTHROPIC_BASE_URL: model.baseUrl,
    ANTHROPIC_API_KEY: model.apiKey,
    HTTPS_PROXY: egress.proxyUrl,
    HTTP_PROXY: egress.proxyUrl,
    https_proxy: egress.proxyUrl,
    http_proxy: egress.proxyUrl,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
  };
}
