// CompositeAuthenticator: static tokens and JWTs usable at once. A three-part dotted token goes to
// the JWT authenticator only; anything else to the static tokens only. Routing by shape (not
// "try one, then the other") means a JWT is never hashed against static tokens and a static
// token never reaches the JWKS endpoint, so a flood of junk tokens cannot trigger JWKS fetches.
// Neighbours: StaticTokenAuthenticator, JWTAuthenticator. It does not verify anything itself.

import type { Authenticator, AuthResult } from './authenticator.js';

/** header.payload.signature in base64url; the signature may be empty (alg 'none' — refused there). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function isJwtShaped(token: string): boolean {
  return JWT_SHAPE.test(token);
}

export class CompositeAuthenticator implements Authenticator {
  constructor(
    private readonly staticTokens: Authenticator,
    private readonly jwt: Authenticator,
  ) {}

  authenticate(bearer: string): Promise<AuthResult> {
    return isJwtShaped(bearer) ? this.jwt.authenticate(bearer) : this.staticTokens.authenticate(bearer);
  }
}
