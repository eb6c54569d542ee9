// The operator API under /admin (admin tokens only; a tenant's token gets 403 forbidden): every
// tenant's sessions, one session with its usage, deleting one, pools with standby ids, usage
// per tenant (one tenant's sessions paged), and a dry-run check of a tenants file. Reached as
// `client.admin`.

import { requestJson, segment, type Transport } from './http.js';
import type { AdminDeleteResult, AdminPoolView, AdminSessionDetail, AdminSessionPage, AdminSessionView, AdminUsageView, SessionUsage, TenantsCheck } from './views.js';
import { walkPages } from './paging.js';

export interface AdminPageOptions {
  /** Sessions per page (gateway default 100). */
  limit?: number;
  cursor?: string;
  /** Only this tenant's sessions. */
  tenant?: string;
  signal?: AbortSignal;
}

export class BerthAdmin {
  constructor(private readonly transport: Transport) {}

  /** One page of all tenants' sessions (or one tenant's), in id order. */
  async listSessions(options: AdminPageOptions = {}): Promise<AdminSessionPage> {
    const page = await requestJson<{ sessions: AdminSessionView[]; nextCursor?: string | null }>(this.transport, {
      method: 'GET',
      path: '/admin/sessions',
      query: { limit: options.limit, cursor: options.cursor, tenant: options.tenant },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { sessions: page.sessions, nextCursor: page.nextCursor ?? null };
  }

  /** Every session, page by page. */
  sessions(options: Omit<AdminPageOptions, 'cursor'> = {}): AsyncGenerator<AdminSessionView, void, undefined> {
    return walkPages((cursor) => this.listSessions({ ...options, ...(cursor !== undefined ? { cursor } : {}) }));
  }

  getSession(sessionId: string, options: { signal?: AbortSignal } = {}): Promise<AdminSessionDetail> {
    return requestJson(this.transport, { method: 'GET', path: `/admin/sessions/${segment(sessionId)}`, ...options });
  }

  /** Deletes any tenant's session and releases its sandbox; 404 session_not_found when absent. */
  deleteSession(sessionId: string, options: { signal?: AbortSignal } = {}): Promise<AdminDeleteResult> {
    return requestJson(this.transport, { method: 'DELETE', path: `/admin/sessions/${segment(sessionId)}`, ...options });
  }

  pool(options: { signal?: AbortSignal } = {}): Promise<AdminPoolView> {
    return requestJson(this.transport, { method: 'GET', path: '/admin/pool', ...options });
  }

  /**
   * Usage of every tenant in the tenants file (totals and session count), or of one with one page
   * of its sessions' counters (`limit`, `cursor`: only with `tenant`; gateway default 100).
   */
  usage(options: { tenant?: string; limit?: number; cursor?: string; signal?: AbortSignal } = {}): Promise<AdminUsageView> {
    return requestJson(this.transport, {
      method: 'GET',
      path: '/admin/usage',
      query: { tenant: options.tenant, limit: options.limit, cursor: options.cursor },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** Every session's counters of one tenant, page by page (`limit` per request). */
  usageSessions(tenant: string, options: { limit?: number; signal?: AbortSignal } = {}): AsyncGenerator<SessionUsage, void, undefined> {
    return walkPages(async (cursor) => {
      const page = (await this.usage({ ...options, tenant, ...(cursor !== undefined ? { cursor } : {}) })).usage[0];
      return { sessions: Object.entries(page?.sessions ?? {}).map(([sessionId, usage]) => ({ sessionId, usage })), nextCursor: page?.nextCursor ?? null };
    });
  }

  /** Checks a tenants file (YAML text) as the gateway would load it; changes nothing. */
  checkTenants(yaml: string, options: { signal?: AbortSignal } = {}): Promise<TenantsCheck> {
    return requestJson(this.transport, { method: 'POST', path: '/admin/tenants/check', text: yaml, ...options });
  }
}
