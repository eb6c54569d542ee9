// StandbyRegistry: warm-pool membership for backends whose platform has no compare-and-set to
// claim with (Modal). The port is the orchestrator's own (backends/modal/standby-registry.ts):
// the store implements it, so the Modal backend takes `store.standbys` as is and the
// orchestrator never depends on the gateway. `data` is opaque to the store.

export type { StandbyEntry, StandbyRegistry } from '@berth/orchestrator/modal';
