// The one failure a command reports as a single message with its own exit code (no usage text).
// Its own module, free of imports: main.ts needs it on every run, and the gateway package it
// would otherwise come with costs an admin query or a --help about half a second of start-up.

export class CommandError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}
