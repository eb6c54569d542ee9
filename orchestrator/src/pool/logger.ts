// The logger port every orchestrator module logs through: the subset of pino's API berth uses,
// so the gateway can pass its pino logger (or a child of it) and the orchestrator package never
// depends on pino. Messages and fields must never carry secrets (auth tokens, credentials).

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}

const ignore = (): void => {};

/** Logs nothing: the default when no logger is injected (tests, library use). */
export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
