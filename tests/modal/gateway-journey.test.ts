// The caller journey through the whole gateway with BERTH_BACKEND=modal: the stack is configured
// the way `berth start --backend modal` configures it (env only: MODAL_* for the client,
// BERTH_MODAL_APP, BERTH_MODAL_TUNNEL), against the fake Modal control plane, which runs each
// sandbox as a real agent process. The cases: contracts/gateway-journey-contract.ts.

import { runGatewayJourney } from '../contracts/gateway-journey-contract.js';
import { openModalJourney } from './modal-journey-world.js';

runGatewayJourney({
  backend: 'modal',
  open: (poolSize) => openModalJourney(poolSize, { appName: 'berth-journey' }),
});
