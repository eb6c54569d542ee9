// The gateway's logger: pino, with every place a secret can sit redacted (security control:
// bearer tokens, agent tokens, session credentials, model keys never reach a log line).
// Components take a Logger, so tests can pass pino({ level: 'silent' }).

import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'req.headers["x-berth-agent-token"]',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.authToken',
  '*.apiKey',
  '*.token',
  '*.credential',
  '*.secret',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'berth-gateway' },
    // "level":"warn" rather than pino's "level":40: log pipelines (Loki, Cloud Logging, Elastic)
    // read severity from a name, and a person reading raw JSON should not need pino's table.
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination as never) : pino(options);
}
