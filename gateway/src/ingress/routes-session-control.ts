// Steering a running turn from any replica: POST /sessions/{id}/interrupt (the SDK's interrupt;
// 200 {interrupted:false} when idle) and POST /sessions/{id}/approvals/{requestId} (answers a
// tool call the profile's permission policy asked about). Both are the session owner's only and
// go straight to the session's agent (orchestrator/agent-client.ts); the turn's relay, wherever
// it runs, sees the result as frames in the event log.

import express, { Router } from 'express';
import { BerthError, type ApprovalAnswer } from '@berth/protocol';
import { answerApproval, interruptTurn, isSandboxError } from '@berth/orchestrator';
import type { IngressContext } from './context.js';
import { tenantOf } from './auth-middleware.js';
import { sessionIdParam } from './request-input.js';
import { requireOwned } from './routes-sessions.js';

/** Request ids are the agent's (UUIDs); anything else cannot name a pending request. */
const REQUEST_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function sessionControlRoutes(ctx: IngressContext): Router {
  const router = Router();
  const json = express.json({ limit: ctx.maxBodyBytes, type: () => true });

  router.post('/sessions/:id/interrupt', async (req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    const sessionId = sessionIdParam(req.params.id);
    const session = await requireOwned(ctx, tenant, sessionId);
    if (!session.sandbox) return void res.json({ interrupted: false });
    try {
      res.json(await interruptTurn(session.sandbox, sessionId));
    } catch (error) {
      // The sandbox is gone: so is any turn it ran (its relay ends it with one terminal frame).
      if (!isSandboxError(error)) throw error;
      res.json({ interrupted: false });
    }
  });

  router.post('/sessions/:id/approvals/:requestId', json, async (req, res) => {
    const tenant = tenantOf(res, ctx.tenants());
    const sessionId = sessionIdParam(req.params.id);
    const requestId = String(req.params.requestId);
    const answer = approvalAnswerOf(req.body);
    const session = await requireOwned(ctx, tenant, sessionId);
    if (!REQUEST_ID.test(requestId) || !session.sandbox) throw new BerthError('approval_not_found', 'no pending approval request with this id');
    let outcome;
    try {
      outcome = await answerApproval(session.sandbox, sessionId, requestId, answer);
    } catch (error) {
      if (!isSandboxError(error)) throw error;
      throw new BerthError('approval_not_found', 'the session has no running turn waiting for this request');
    }
    if (outcome.kind === 'approval_not_found') throw new BerthError('approval_not_found', 'no pending approval request with this id (unknown, or resolved already: answered, or denied by the timeout)');
    if (outcome.kind === 'invalid') throw new BerthError('invalid_body', outcome.detail);
    res.json({ resolved: true });
  });

  return router;
}

function approvalAnswerOf(body: unknown): ApprovalAnswer {
  const value = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const { decision, message, updatedInput } = value;
  if (decision !== 'allow' && decision !== 'deny') throw new BerthError('invalid_body', 'the body must be JSON {"decision": "allow"|"deny", "message"?: string, "updatedInput"?: object}');
  if (message !== undefined && typeof message !== 'string') throw new BerthError('invalid_body', '"message" must be a string');
  if (updatedInput !== undefined && (typeof updatedInput !== 'object' || updatedInput === null || Array.isArray(updatedInput))) {
    throw new BerthError('invalid_body', '"updatedInput" must be an object');
  }
  return {
    decision,
    ...(typeof message === 'string' ? { message: message.slice(0, 4000) } : {}),
    ...(updatedInput ? { updatedInput: updatedInput as Record<string, unknown> } : {}),
  };
}
