// @berth/cli/testing: the parsers, specs and views the unit tests pin. Not a public API.
export * from './admin-client.js';
export * from './command-specs.js';
export * from './commands/tenants.js';
export * from './flags.js';
export * from './pool-progress.js';
export * from './table.js';
