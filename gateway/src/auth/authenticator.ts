// The Authenticator port: a bearer credential in, a principal out. Implementations:
// StaticTokenAuthenticator (hashed tokens from the tenants file), JWTAuthenticator (an identity
// provider's JWTs) and CompositeAuthenticator (both, routed by token shape); all three pass
// tests/contracts/authenticator-contract.ts.
// Expected refusals are return values; only broken infrastructure throws.

export type Principal = { kind: 'tenant'; tenant: string } | { kind: 'admin' };

export type AuthResult = { kind: 'ok'; principal: Principal } | { kind: 'refused'; reason: 'missing' | 'invalid' };

export interface Authenticator {
  authenticate(bearer: string): Promise<AuthResult>;
}

/** Extracts the token of an `Authorization: Bearer …` header; undefined when absent or malformed. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ \t]+([\x21-\x7e]{1,4096})[ \t]*$/i.exec(header);
  return match?.[1];
}
