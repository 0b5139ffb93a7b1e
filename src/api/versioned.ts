import type { Target } from '../engine/plan.js';
import { runVersionsWithDriver, type TableCounts } from '../engine/drive.js';
import type { BackupRef } from '../engine/driver.js';
import { runVersions, type VersionsResult } from '../engine/versions.js';
import type { CommandResult } from '../results.js';
import { configOf, engineConfigOf, migrationSetOf, milliseconds, placesOf, settle, type MigrationsOptions, type Settled, type WaitOptions } from './options.js';
import { postgresUrlOf, withPostgres } from './postgres.js';

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
 * What up, down, goto and migrateToLatest return: every planned migration, as it went. On
 * PostgreSQL also each table's rows before and after (`counts`) and how to restore the
 * backup by hand (`backup.restoreCommand`).
 */
export type MigrationsResult = Omit<VersionsResult, 'backup'> &
  CommandResult & { status: MigrationsStatus; backup: BackupRef | null; counts?: TableCounts };

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
      const config = configOf(options);
      const waitMs = milliseconds(options.wait, 'wait');
      const url = postgresUrlOf(config);
      if (url) {
        const result = await withPostgres(url, config, options, async (driver, loadSet) =>
          runVersionsWithDriver(driver, await loadSet(), target, command, {
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
      }
      const result = await runVersions(engineConfigOf(config), await migrationSetOf(config, options.set, now), target, command, {
        now,
        dryRun: !!options.dryRun,
        backup: options.backup !== false,
        create: !!options.create,
        ...(waitMs !== undefined ? { waitMs } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
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
      warnings: [],
      notices: [],
      error,
    }),
  );
}
