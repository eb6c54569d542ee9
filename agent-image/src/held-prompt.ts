// A prompt that is not written yet: the one-message input a standby's CLI is claimed with before
// its session exists. The CLI is claimed (folder, session registration) at the standby's start;
// the first user message goes through here when the session's first turn begins.
// Neighbours: standby.ts (claims with it), session.ts (sends the first prompt through it).
// It carries exactly one message and then ends, so the SDK closes the CLI's input after that
// turn as it does for a string prompt (after the run, when callbacks still need the channel).

import type { SDKUserMessage } from '@anthropic-ai/claude-agent-sdk';

export class HeldPrompt {
  private give!: (prompt: string | null) => void;
  private readonly prompt = new Promise<string | null>((resolve) => (this.give = resolve));
  private settled = false;

  /** The input to claim with: one user message once send() is called, none after cancel(). */
  async *messages(): AsyncGenerator<SDKUserMessage> {
    const prompt = await this.prompt;
    if (prompt === null) return;
    yield { type: 'user', message: { role: 'user', content: prompt }, parent_tool_use_id: null };
  }

  /** Writes the first prompt; only the first call of send() or cancel() counts. */
  send(prompt: string): void {
    if (this.settled) return;
    this.settled = true;
    this.give(prompt);
  }

  /** Ends the input without a message (the standby is discarded). */
  cancel(): void {
    if (this.settled) return;
    this.settled = true;
    this.give(null);
  }
}
