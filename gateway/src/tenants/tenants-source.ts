// TenantsSource: the tenants file as a live value. Loaded at start (a bad file fails the start),
// then re-read when the file changes: a good change applies without a restart; a bad one is
// refused with every problem logged, and the last good directory stays in force. A reload whose
// bytes equal the directory in force is skipped (watch events fire for touches and for
// rewrites of the same content; parsing 100,000 tenants again would buy nothing).
// The new directory (and its token index) is built whole before one assignment swaps it in:
// requests during a reload see the old directory or the new one, never a half-built one.
// With JWT auth configured and no file at all, tenants come from verified claims
// (claims-tenants.ts) until a file appears.

import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import { claimsTenantDirectory } from './claims-tenants.js';
import type { TenantDirectory } from './tenant.js';
import { parseTenants, TenantsFileError } from './tenants-file.js';
import { tokenIndex } from './token-index.js';

export type ReloadOutcome =
  | { kind: 'applied'; tenants: number }
  /** The file's bytes equal the ones in force: nothing parsed, nothing swapped. */
  | { kind: 'unchanged'; tenants: number }
  | { kind: 'refused'; problems: string[] };

export interface TenantsSourceOptions {
  /**
   * A missing file is not an error: tenants come from JWT claims (set when JWT auth is
   * configured). Default false: a missing file fails the start.
   */
  claimsWhenAbsent?: boolean;
}

export class TenantsSource {
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private reloads: Array<(outcome: ReloadOutcome) => void> = [];

  private constructor(
    readonly file: string,
    private directory: TenantDirectory,
    /** SHA-256 of the bytes `directory` was parsed from; undefined for the claims directory. */
    private digest: string | undefined,
    private readonly log: Logger,
  ) {}

  static async open(file: string, log: Logger, options: TenantsSourceOptions = {}): Promise<TenantsSource> {
    let text: Buffer;
    try {
      text = await readFile(file);
    } catch (error) {
      if (!options.claimsWhenAbsent || (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      log.info({ file }, 'no tenants file: tenants come from JWT claims, each with the default profile');
      return new TenantsSource(file, claimsTenantDirectory(), undefined, log);
    }
    return new TenantsSource(file, build(text), digestOf(text), log);
  }

  /** The directory in force now. Cheap: called per request. */
  readonly current = (): TenantDirectory => this.directory;

  /** Re-reads the file now. */
  async reload(): Promise<ReloadOutcome> {
    let outcome: ReloadOutcome;
    try {
      const text = await readFile(this.file);
      const digest = digestOf(text);
      if (digest === this.digest) {
        outcome = { kind: 'unchanged', tenants: this.directory.tenants.size };
      } else {
        this.directory = build(text);
        this.digest = digest;
        outcome = { kind: 'applied', tenants: this.directory.tenants.size };
        this.log.info({ file: this.file, tenants: outcome.tenants }, 'tenants file reloaded');
      }
    } catch (error) {
      const problems = error instanceof TenantsFileError ? error.problems : [(error as Error).message];
      outcome = { kind: 'refused', problems };
      this.log.error({ file: this.file, problems }, 'tenants file change refused; the last good version stays in force');
    }
    for (const listener of this.reloads) listener(outcome);
    return outcome;
  }

  /** Registers a listener for reload outcomes (tests, the admin CLI's status). */
  onReload(listener: (outcome: ReloadOutcome) => void): void {
    this.reloads.push(listener);
  }

  /**
   * Watches the file's directory (editors and Kubernetes Secret mounts replace files by rename,
   * which a watch on the file itself would miss). Debounced 200 ms: one save is often several events.
   * Without the directory (a JWT deployment with no file) there is nothing to watch.
   */
  watch(): void {
    const dir = path.dirname(this.file);
    const base = path.basename(this.file);
    try {
      this.watcher = watch(dir, (_event, name) => {
        if (name !== null && name !== base && !name.startsWith('..')) return;
        if (this.debounce) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.reload(), 200);
      });
    } catch (error) {
      if (this.digest === undefined && (error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    this.watcher.on('error', (error) => this.log.warn({ err: error }, 'tenants file watch failed'));
  }

  close(): void {
    this.watcher?.close();
    if (this.debounce) clearTimeout(this.debounce);
  }
}

/** Parses and indexes a directory; throws TenantsFileError. The index is built before the swap. */
function build(text: Buffer): TenantDirectory {
  const directory = parseTenants(text.toString('utf8'));
  tokenIndex(directory);
  return directory;
}

function digestOf(text: Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}
