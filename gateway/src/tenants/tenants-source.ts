// TenantsSource: the tenants file as a live value. Loaded at start (a bad file fails the start),
// then re-read when the file changes: a good change applies without a restart; a bad one is
// refused with every problem logged, and the last good directory stays in force.

import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { TenantDirectory } from './tenant.js';
import { readTenantsFile, TenantsFileError } from './tenants-file.js';

export type ReloadOutcome = { kind: 'applied'; tenants: number } | { kind: 'refused'; problems: string[] };

export class TenantsSource {
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private reloads: Array<(outcome: ReloadOutcome) => void> = [];

  private constructor(readonly file: string, private directory: TenantDirectory, private readonly log: Logger) {}

  static async open(file: string, log: Logger): Promise<TenantsSource> {
    return new TenantsSource(file, await readTenantsFile(file), log);
  }

  /** The directory in force now. Cheap: called per request. */
  readonly current = (): TenantDirectory => this.directory;

  /** Re-reads the file now. */
  async reload(): Promise<ReloadOutcome> {
    let outcome: ReloadOutcome;
    try {
      this.directory = await readTenantsFile(this.file);
      outcome = { kind: 'applied', tenants: this.directory.tenants.size };
      this.log.info({ file: this.file, tenants: outcome.tenants }, 'tenants file reloaded');
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
   */
  watch(): void {
    const dir = path.dirname(this.file);
    const base = path.basename(this.file);
    this.watcher = watch(dir, (_event, name) => {
      if (name !== null && name !== base && !name.startsWith('..')) return;
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => void this.reload(), 200);
    });
    this.watcher.on('error', (error) => this.log.warn({ err: error }, 'tenants file watch failed'));
  }

  close(): void {
    this.watcher?.close();
    if (this.debounce) clearTimeout(this.debounce);
  }
}
