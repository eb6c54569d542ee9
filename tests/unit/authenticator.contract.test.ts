// Static tokens, JWTs and the composite of both run the one Authenticator contract
// (contracts/authenticator-contract.ts). JWT details beyond it (algorithms, JWKS, nbf, kids):
// jwt-authenticator.test.ts.

import { randomBytes } from 'node:crypto';
import { CompositeAuthenticator } from '@berth/gateway/auth';
import { JWTAuthenticator } from '@berth/gateway/auth';
import { StaticTokenAuthenticator } from '@berth/gateway/auth';
import { hashToken, parseTenants } from '@berth/gateway/tenants';
import { runAuthenticatorContract, type AuthenticatorWorld } from '../contracts/authenticator-contract.js';
import { makeKey, signToken } from '../fixtures/jwks-server.js';

const ALICE_TOKEN = 'berth_contract_alice_token';
const directory = parseTenants(`
tenants:
  alice:
    tokenHashes: ["${hashToken(ALICE_TOKEN)}"]
admins:
  tokenHashes: []
`);

const trusted = await makeKey('ES256', 'trusted');
const stranger = await makeKey('ES256', 'stranger');

const staticTokens = (): StaticTokenAuthenticator => new StaticTokenAuthenticator(() => directory);
const jwts = (): JWTAuthenticator =>
  new JWTAuthenticator({ keySource: { kind: 'local', text: trusted.publicPem }, issuer: 'https://idp.test', audience: 'berth', tenants: () => directory });

// A random token of the issued shape: what a guessed or revoked static token looks like.
const strangeToken = async (): Promise<string> => `berth_${randomBytes(24).toString('base64url')}`;
const noExpiry = { skip: 'static tokens do not expire: revoking one is removing its hash from the tenants file' };
// Beyond the default 30 s clock tolerance.
const expiredJwt = (): Promise<string> => signToken(trusted, { expInS: -120 });
// Signed by a key the gateway does not trust, naming a real tenant.
const strangeJwt = (): Promise<string> => signToken(stranger, { kid: null });

runAuthenticatorContract({
  name: 'StaticTokenAuthenticator',
  open: async (): Promise<AuthenticatorWorld> => ({ authenticator: staticTokens(), valid: async () => ALICE_TOKEN, unknown: strangeToken, expired: () => noExpiry }),
});

runAuthenticatorContract({
  name: 'JWTAuthenticator',
  open: async (): Promise<AuthenticatorWorld> => ({ authenticator: jwts(), valid: () => signToken(trusted), unknown: strangeJwt, expired: expiredJwt }),
});

runAuthenticatorContract({
  name: 'CompositeAuthenticator (static token side)',
  open: async (): Promise<AuthenticatorWorld> => ({
    authenticator: new CompositeAuthenticator(staticTokens(), jwts()),
    valid: async () => ALICE_TOKEN,
    unknown: strangeToken,
    expired: () => noExpiry,
  }),
});

runAuthenticatorContract({
  name: 'CompositeAuthenticator (JWT side)',
  open: async (): Promise<AuthenticatorWorld> => ({
    authenticator: new CompositeAuthenticator(staticTokens(), jwts()),
    valid: () => signToken(trusted),
    unknown: strangeJwt,
    expired: expiredJwt,
  }),
});
