// The caller journey through the whole gateway on Modal's default tunnel mode, encrypted: each
// sandbox's URL is https, through a TLS-terminating front door on loopback as Modal's tunnel is.
// The same cases as gateway-journey.test.ts (contracts/gateway-journey-contract.ts). It pins that
// the gateway reaches an https sandbox for every request: before, the claim and the bootstrap
// (fetch) worked and every turn's open threw ERR_INVALID_PROTOCOL (http.request on an https URL).

import { runGatewayJourney } from '../contracts/gateway-journey-contract.js';
import { openModalJourney } from './modal-journey-world.js';

runGatewayJourney({
  backend: 'modal (encrypted tunnels)',
  open: (poolSize) => openModalJourney(poolSize, { appName: 'berth-journey-tls', encryptedTunnels: true }),
});
