import { dropEverything, type DropResult as EngineDropResult } from '../engine/drop.js';
import type { CommandResult } from '../results.js';
import { withDatabase } from './database.js';
import { milliseconds, placesOf, settle, type MigrationsOptions, type Settled, type WaitOptions } from './options.js';

export interface DropOptions extends MigrationsOptions, WaitOptions {
  /** Take a timestamped, checksummed backup first (default true). */
  backup?: boolean;
}

export type DropResult = EngineDropResult & CommandResult & { status: 'dropped' | 'failed' };

/** golang-migrate's `drop`: every table (SQLite) or every table of the current schema (PostgreSQL), after a backup. The CLI asks first. */
export function drop(options: DropOptions): Promise<Settled<DropResult>> {
  const now = () => new Date();
  return settle(
    'drop',
    async () => {
      const waitMs = milliseconds(options.wait, 'wait');
      const result = await withDatabase(options, { command: 'drop', now }, async (driver, _loadSet, config) =>
        dropEverything(driver, {
          backup: options.backup !== false,
          backupDir: config.backupDir,
          now,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(waitMs !== undefined ? { wait: true, waitMs } : {}),
        }),
      );
      return { ...result, status: result.ok ? ('dropped' as const) : ('failed' as const) };
    },
    (error) => ({ ok: false, command: 'drop', status: 'failed' as const, database: placesOf(options).database, dropped: [], backup: null, notices: [], error }),
  );
}
