// Resolves the caller's bearer token to a principal before any route runs (security control:
// every route but the probes and /metrics is authenticated). 401 problems never say whether a
// token exists; they name the fix.

import type { RequestHandler, Response } from 'express';
import { BerthError } from '@berth/protocol';
import { bearerToken, type Authenticator, type Principal } from '../auth/authenticator.js';
import { findTenant, type Tenant, type TenantDirectory } from '../tenants/tenant.js';

export function authenticate(authenticator: Authenticator): RequestHandler {
  return async (req, res, next) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new BerthError('unauthenticated', 'send Authorization: Bearer <token>');
    const result = await authenticator.authenticate(token);
    if (result.kind !== 'ok') throw new BerthError('unauthenticated', 'the bearer token is not valid');
    res.locals.principal = result.principal;
    next();
  };
}

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** The calling tenant; admins use the admin routes, not the tenant ones. */
export function tenantOf(res: Response, directory: TenantDirectory): Tenant {
  const principal = principalOf(res);
  if (principal.kind !== 'tenant') throw new BerthError('forbidden', 'this route is for tenant tokens');
  const tenant = findTenant(directory, principal.tenant);
  if (!tenant) throw new BerthError('unauthenticated', 'the tenant of this token no longer exists');
  return tenant;
}
