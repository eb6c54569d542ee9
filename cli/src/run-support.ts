// What the long-running commands (`start`, `gateway`) share: reading the configuration with
// every problem reported and exit code 2, and waiting for Ctrl-C or SIGTERM.

import { ConfigError, loadConfig, type GatewayConfig } from '@berth/gateway';
import { CommandError } from './command-error.js';

export function readConfig(env: Record<string, string | undefined>): Readonly<GatewayConfig> {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CommandError(error.message, 2);
    throw error;
  }
}

/** Resolves on the first SIGINT or SIGTERM, then stops listening for them. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
