// Pending tool-call approvals of the running turn: an `ask` emits `approval_request`, waits for
// POST /sessions/{id}/approvals/{requestId}, the approval timeout (deny) or the turn's end
// (deny), and emits exactly one `approval_resolved` per request. Neighbours: permissions.ts
// calls ask(); session.ts routes answers here and settles what is left when a turn stops.
// Request ids are random: an answer names exactly one pending call, and a late or repeated
// answer finds nothing (404 approval_not_found).

import { randomUUID } from 'node:crypto';
import type { PermissionResult } from '@anthropic-ai/claude-agent-sdk';
import type { ApprovalAnswer, ApprovalRequestData, ApprovalResolvedData } from '@berth/protocol';

/** Emits one frame on the running turn; false when the turn cannot take it (then the ask denies). */
export type ApprovalEmitter = (event: 'approval_request' | 'approval_resolved', data: ApprovalRequestData | ApprovalResolvedData) => boolean;

interface Pending {
  settle: (result: PermissionResult, by: ApprovalResolvedData['by']) => void;
  input: Record<string, unknown>;
}

export type AnswerOutcome = 'resolved' | 'not_found';

export class Approvals {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly emit: ApprovalEmitter,
    /** Seconds an ask waits for its answer. */
    private readonly timeoutS: number,
  ) {}

  get waiting(): number {
    return this.pending.size;
  }

  ask(tool: string, input: Record<string, unknown>, signal: AbortSignal): Promise<PermissionResult> {
    const requestId = `apr_${randomUUID()}`;
    return new Promise<PermissionResult>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => entry.settle({ behavior: 'deny', message: 'the tool call was cancelled' }, 'policy');
      const entry: Pending = {
        input,
        settle: (result, by) => {
          if (!this.pending.delete(requestId)) return;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          this.emit('approval_resolved', { requestId, decision: result.behavior, by });
          resolve(result);
        },
      };
      this.pending.set(requestId, entry);
      if (!this.emit('approval_request', { requestId, tool, input })) {
        // Nobody can see the question (the turn hit its frame limit or ended): deny at once.
        this.pending.delete(requestId);
        return resolve({ behavior: 'deny', message: 'the approval request could not be sent' });
      }
      timer = setTimeout(() => entry.settle({ behavior: 'deny', message: `no answer within ${this.timeoutS} s: denied` }, 'timeout'), this.timeoutS * 1000);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The caller's answer; `not_found` when the id is unknown or was settled already. */
  answer(requestId: string, answer: ApprovalAnswer): AnswerOutcome {
    const entry = this.pending.get(requestId);
    if (!entry) return 'not_found';
    if (answer.decision === 'allow') entry.settle({ behavior: 'allow', updatedInput: answer.updatedInput ?? entry.input }, 'caller');
    else entry.settle({ behavior: 'deny', message: answer.message ?? 'denied by the caller' }, 'caller');
    return 'resolved';
  }

  /**
   * Denies every pending ask (the turn is stopping), so no tool waits on an answer nobody will
   * give; `interrupt` also tells the CLI to stop the turn rather than carry on without the tool.
   */
  denyAll(message: string, interrupt: boolean): void {
    for (const entry of [...this.pending.values()]) entry.settle({ behavior: 'deny', message, interrupt }, 'policy');
  }
}
