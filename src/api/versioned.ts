import type { Target } from '../engine/plan.js';
import { runVersions, type VersionsResult } from '../engine/versions.js';
import type { CommandResult } from '../results.js';
import { withDatabase } from './database.js';
import { milliseconds, placesOf, settle, type MigrationsOptions, type Settled, type WaitOptions } from './options.js';

// up, down and goto (and the CLI's upgrade/downgrade, migrateToLatest) differ only in how they
// name the target: one way through for all of them.

export interface ChangeOptions extends MigrationsOptions, WaitOptions {
  /** Plan and show the SQL, change nothing. */
  dryRun?: boolean;
  /** Take a timestamped, checksummed backup before the first change (default true). */
  backup?: boolean;
}

/** `applied`: migrations ran; `nothing-to-do`: the database was already there; `dry-run`: planned only. */
export type MigrationsStatus = 'applied' | 'nothing-to-do' | 'dry-run' | 'failed';

/**
 * What up, down, goto and migrateToLatest return: every planned migration, as it went, each
 * table's rows before and after (`counts`) and, on PostgreSQL, how to restore the backup by
 * hand (`backup.restoreCommand`).
 */
export type MigrationsResult = VersionsResult & CommandResult & { status: MigrationsStatus };

function statusOf(result: Pick<VersionsResult, 'ok' | 'dryRun' | 'steps'>): MigrationsStatus {
  if (!result.ok) return 'failed';
  if (result.dryRun) return 'dry-run';
  return result.steps.some((s) => s.status === 'applied') ? 'applied' : 'nothing-to-do';
}

export function runTarget(command: string, target: Target, options: ChangeOptions & { create?: boolean }): Promise<Settled<MigrationsResult>> {
  const now = () => new Date();
  return settle(
    command,
    async () => {
      const waitMs = milliseconds(options.wait, 'wait');
      const result = await withDatabase(options, { command, create: !!options.create, now }, async (driver, loadSet, config) =>
        runVersions(driver, await loadSet(), target, command, {
          now,
          backupDir: config.backupDir,
          dryRun: !!options.dryRun,
          backup: options.backup !== false,
          ...(waitMs !== undefined ? { wait: true, waitMs } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        }),
      );
      return { ...result, status: statusOf(result) };
    },
    (error) => ({
      ok: false,
      command,
      status: 'failed' as const,
      ...placesOf(options),
      dryRun: !!options.dryRun,
      steps: [],
      backup: null,
      counts: {},
      warnings: [],
      notices: [],
      error,
    }),
  );
}
