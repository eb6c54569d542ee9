// The profile's tool-permission policy as SDK callbacks. Pure policy (decideTool) plus two
// adapters: a PreToolUse hook and canUseTool. Why both: the CLI calls canUseTool only for calls
// it would prompt for (a read-only `echo` or a Read never reaches it), so the hook, which runs
// for every tool call, turns the policy's `deny` into a deny and its `ask` into the CLI's `ask`,
// which then always reaches canUseTool; canUseTool does the asking (approvals.ts).
// Neighbours: session.ts wires these into the options (sdk-options.ts) of every CLI it starts.
// Security control: `deny` is enforced by the CLI on the hook's word before the tool runs.

import type { CanUseTool, HookCallbackMatcher, HookEvent, PermissionResult } from '@anthropic-ai/claude-agent-sdk';
import type { PermissionDecision, PermissionPolicy } from '@berth/protocol';

/** First matching rule wins; a rule's `tool` is an exact name or a `*` pattern; else `default` ('allow'). */
export function decideTool(policy: PermissionPolicy, tool: string): PermissionDecision {
  for (const rule of policy.rules ?? []) if (toolPattern(rule.tool).test(tool)) return rule.decision;
  return policy.default ?? 'allow';
}

function toolPattern(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

/** Asks the caller about one tool call; resolves with the SDK's answer (deny on timeout or stop). */
export type AskCaller = (tool: string, input: Record<string, unknown>, signal: AbortSignal) => Promise<PermissionResult>;

export interface PermissionCallbacks {
  canUseTool: CanUseTool;
  hooks: Partial<Record<HookEvent, HookCallbackMatcher[]>>;
}

const DENIED_BY_POLICY = "denied by the tenant's permission policy";

export function permissionCallbacks(policy: PermissionPolicy, ask: AskCaller): PermissionCallbacks {
  const canUseTool: CanUseTool = async (tool, input, { signal }) => {
    const decision = decideTool(policy, tool);
    if (decision === 'allow') return { behavior: 'allow', updatedInput: input };
    if (decision === 'deny') return { behavior: 'deny', message: DENIED_BY_POLICY };
    return ask(tool, input, signal);
  };
  const preToolUse: HookCallbackMatcher = {
    hooks: [
      async (input) => {
        const tool = (input as { tool_name?: unknown }).tool_name;
        if (typeof tool !== 'string') return {};
        const decision = decideTool(policy, tool);
        // `allow` leaves the CLI's own checks in place; canUseTool then allows what it asks about.
        if (decision === 'allow') return {};
        return { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: decision, permissionDecisionReason: decision === 'deny' ? DENIED_BY_POLICY : "the tenant's permission policy asks the caller" } };
      },
    ],
  };
  return { canUseTool, hooks: { PreToolUse: [preToolUse] } };
}
