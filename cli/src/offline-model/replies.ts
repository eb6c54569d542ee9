// Decides what the offline model answers one Messages-API request with. Pure: a parsed request
// body (plus the next scripted reply, if any) in, a reply plan out, so unit tests need no server.
// Neighbours: server.ts (HTTP, recording, the script queue), wire.ts (SSE and JSON encoding).
// It does not imitate a real model; every reply is deterministic and says what it saw, so a
// test can prove from the reply text alone which history a request carried.

export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

/** One entry of the script queue; each main request (not title/side requests) takes one. */
export type ScriptedReply =
  | { kind: 'text'; text: string; delayMs?: number }
  | { kind: 'tool_use'; name: string; input: Record<string, unknown>; text?: string; delayMs?: number }
  /** An HTTP error with an Anthropic error body. 429 carries `retry-after` (default 1 s, none when
   *  `headers` are given: they replace the defaults, e.g. the egress gateway's x-should-retry). */
  | { kind: 'status'; status: number; errorType?: string; message?: string; retryAfterS?: number; headers?: Record<string, string> }
  /** Starts a streamed reply, then destroys the socket right after content_block_start. */
  | { kind: 'cut' }
  /** The default reply (or `text`), with `delayMs` between SSE events. */
  | { kind: 'slow'; delayMs: number; text?: string };

export type ReplyPlan =
  | { kind: 'message'; content: ContentBlock[]; stopReason: 'end_turn' | 'tool_use'; delayMs: number }
  | { kind: 'status'; status: number; errorType: string; message: string; retryAfterS: number | undefined; headers: Record<string, string> }
  | { kind: 'cut' };

export type RequestKind = 'main' | 'title';

interface Message {
  role?: string;
  content?: unknown;
}

/** Title and other side requests ask for JSON through output_config.format; they never take the script. */
export function classifyRequest(body: Record<string, unknown>): RequestKind {
  const format = (body.output_config as { format?: { type?: string } } | undefined)?.format;
  return format?.type === 'json_schema' ? 'title' : 'main';
}

/** Text the caller typed in one user message: text blocks, minus the CLI's injected reminders. */
export function userPromptText(message: Message): string | null {
  if (message.role !== 'user') return null;
  if (typeof message.content === 'string') return message.content;
  if (!Array.isArray(message.content)) return null;
  const texts = message.content
    .filter((b): b is { type: 'text'; text: string } => b?.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text)
    .filter((t) => !t.trimStart().startsWith('<system-reminder>'));
  return texts.length > 0 ? texts.join('\n') : null;
}

/** Every user prompt of the conversation in order (tool results and system entries skipped). */
export function userPrompts(body: Record<string, unknown>): string[] {
  const messages = Array.isArray(body.messages) ? (body.messages as Message[]) : [];
  return messages.map(userPromptText).filter((t): t is string => t !== null);
}

function lastToolResult(body: Record<string, unknown>): unknown {
  const messages = Array.isArray(body.messages) ? (body.messages as Message[]) : [];
  // The CLI may put role:"system" entries between turns, so look for the last user entry.
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  if (!lastUser || !Array.isArray(lastUser.content)) return undefined;
  const result = lastUser.content.find((b: { type?: string }) => b?.type === 'tool_result') as { content?: unknown } | undefined;
  return result ? (result.content ?? '') : undefined;
}

function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((b: { text?: unknown }) => (typeof b?.text === 'string' ? b.text : '')).join('');
  return JSON.stringify(content);
}

const BASH_MARKER = /\[\[bash:\s*([\s\S]+?)\]\]/;
/**
 * `[[slow: <ms>]]` in the prompt: every default reply of that turn waits <ms> between its SSE
 * events (a long, steadily streaming turn, for interrupt and detach tests through the whole
 * stack, where scripting the model is not at hand). Capped at 60 000 ms per event.
 */
const SLOW_MARKER = /\[\[slow:\s*(\d{1,6})\s*\]\]/;

/** The per-event delay the last prompt's `[[slow: ms]]` asks for, else 0. */
export function slowDelayMs(body: Record<string, unknown>): number {
  const match = SLOW_MARKER.exec(userPrompts(body).at(-1) ?? '');
  return match?.[1] ? Math.min(60_000, Number(match[1])) : 0;
}

/** The deterministic reply when the script is empty. */
export function defaultContent(body: Record<string, unknown>, toolIdSeed: number): { content: ContentBlock[]; stopReason: 'end_turn' | 'tool_use' } {
  const toolResult = lastToolResult(body);
  if (toolResult !== undefined) {
    return { content: [{ type: 'text', text: `offline model: the command printed ${JSON.stringify(toolResultText(toolResult))}` }], stopReason: 'end_turn' };
  }
  const prompts = userPrompts(body);
  const last = prompts.at(-1) ?? '';
  const hasBash = Array.isArray(body.tools) && (body.tools as { name?: string }[]).some((t) => t?.name === 'Bash');
  const marker = BASH_MARKER.exec(last);
  if (hasBash && marker?.[1]) {
    const command = marker[1].trim();
    return {
      content: [
        { type: 'text', text: 'offline model: running a command.' },
        { type: 'tool_use', id: `toolu_offline_${toolIdSeed}`, name: 'Bash', input: { command, description: 'Run the command the prompt named' } },
      ],
      stopReason: 'tool_use',
    };
  }
  const earlier = JSON.stringify(prompts.slice(0, -1));
  return { content: [{ type: 'text', text: `offline model: you said ${JSON.stringify(last)} (turn ${prompts.length}; earlier user turns: ${earlier})` }], stopReason: 'end_turn' };
}

const ERROR_TYPES: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error' };

/** Turns the request plus the scripted reply (if any) into what the server sends. */
export function planReply(body: Record<string, unknown>, scripted: ScriptedReply | undefined, toolIdSeed: number): ReplyPlan {
  if (classifyRequest(body) === 'title') {
    const title = (userPrompts(body).at(-1) ?? 'offline session').slice(0, 40);
    return { kind: 'message', content: [{ type: 'text', text: JSON.stringify({ title }) }], stopReason: 'end_turn', delayMs: 0 };
  }
  if (!scripted) return { kind: 'message', ...defaultContent(body, toolIdSeed), delayMs: slowDelayMs(body) };
  switch (scripted.kind) {
    case 'text':
      return { kind: 'message', content: [{ type: 'text', text: scripted.text }], stopReason: 'end_turn', delayMs: scripted.delayMs ?? 0 };
    case 'tool_use': {
      const content: ContentBlock[] = scripted.text ? [{ type: 'text', text: scripted.text }] : [];
      content.push({ type: 'tool_use', id: `toolu_offline_${toolIdSeed}`, name: scripted.name, input: scripted.input });
      return { kind: 'message', content, stopReason: 'tool_use', delayMs: scripted.delayMs ?? 0 };
    }
    case 'status':
      return {
        kind: 'status',
        status: scripted.status,
        errorType: scripted.errorType ?? ERROR_TYPES[scripted.status] ?? 'api_error',
        message: scripted.message ?? `offline model: scripted HTTP ${scripted.status}`,
        retryAfterS: scripted.retryAfterS ?? (scripted.status === 429 && !scripted.headers ? 1 : undefined),
        headers: scripted.headers ?? {},
      };
    case 'cut':
      return { kind: 'cut' };
    case 'slow': {
      const base = scripted.text !== undefined ? { content: [{ type: 'text' as const, text: scripted.text }], stopReason: 'end_turn' as const } : defaultContent(body, toolIdSeed);
      return { kind: 'message', ...base, delayMs: scripted.delayMs };
    }
  }
}
