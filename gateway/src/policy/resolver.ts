// Name resolution as a port: the egress gateway and the webhook sender both resolve a name once
// and dial the answer they vetted (no second lookup a rebinding resolver could redirect).
// Injected so tests run offline; the default is getaddrinfo (/etc/hosts, then DNS), which is what
// clients expect.

import { lookup } from 'node:dns/promises';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Name → addresses, called exactly once per connection. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};
