// Every store contract, one suite per port plus the bundle's own, run together against one
// implementation: tests/integration/store*.test.ts call runStoreContracts per technology and
// topology (memory; Redis single, three-node Cluster, Sentinel).

import { runQuotaCountersContract } from './quota-counters-contract.js';
import { runSandboxBindingsContract } from './sandbox-bindings-contract.js';
import { runSessionListingContract } from './session-listing-contract.js';
import { runSessionRecordsContract } from './session-records-contract.js';
import { runStandbyRegistryContract } from './standby-registry-contract.js';
import { runStoreBundleContract } from './store-bundle-contract.js';
import type { StoreContractOptions } from './store-contract-kit.js';
import { runTranscriptLogContract } from './transcript-log-contract.js';
import { runUsageLedgerContract } from './usage-ledger-contract.js';

export type { StoreContractOptions } from './store-contract-kit.js';

export function runStoreContracts(options: StoreContractOptions): void {
  runSessionRecordsContract(options);
  runSessionListingContract(options);
  runSandboxBindingsContract(options);
  runTranscriptLogContract(options);
  runStandbyRegistryContract(options);
  runUsageLedgerContract(options);
  runQuotaCountersContract(options);
  runStoreBundleContract(options);
}
