import { forceWithDriver } from '../engine/drive.js';
import { forceVersion, type ForceResult as EngineForceResult } from '../engine/force.js';
import { resolveRevision } from '../engine/plan.js';
import type { PlannableMigration } from '../engine/types.js';
import type { CommandResult } from '../results.js';
import { configOf, engineConfigOf, migrationSetOf, milliseconds, placesOf, settle, type MigrationsOptions, type Settled, type WaitOptions } from './options.js';
import { postgresUrlOf, withPostgres } from './postgres.js';

export interface ForceOptions extends MigrationsOptions, WaitOptions {
  /** The version the database really is at: a number (0: nothing applied), a file stem, a name, `head` (the newest) or `base` (0). */
  version: number | string;
}

/** Alembic's stamp also says `head` and `base`. */
function stampedVersion(set: { migrations: readonly PlannableMigration[] }, revision: number | string): number {
  if (revision === 'base') return 0;
  if (revision === 'head') return Math.max(0, ...set.migrations.map((m) => m.version));
  return typeof revision === 'number' ? revision : resolveRevision(set.migrations, revision);
}

export type ForceResult = Omit<EngineForceResult, 'notices'> & CommandResult & { status: 'forced' | 'failed' };

/** `dbshift force V`: mark the database clean at V after a failed no-transaction migration was finished or undone by hand. Runs nothing. */
export function force(options: ForceOptions): Promise<Settled<ForceResult>> {
  return settle(
    'force',
    async () => {
      const config = configOf(options);
      const waitMs = milliseconds(options.wait, 'wait');
      const url = postgresUrlOf(config);
      if (url) {
        const result = await withPostgres(url, config, options, async (driver, loadSet) => {
          const set = await loadSet();
          return forceWithDriver(driver, set, stampedVersion(set, options.version), {
            ...(options.signal ? { signal: options.signal } : {}),
            ...(waitMs !== undefined ? { wait: true, waitMs } : {}),
          });
        });
        return { ...result, notices: [], status: result.ok ? ('forced' as const) : ('failed' as const) };
      }
      const set = await migrationSetOf(config, options.set);
      const result = await forceVersion(engineConfigOf(config), set, stampedVersion(set, options.version), {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(waitMs !== undefined ? { waitMs } : {}),
      });
      return { ...result, status: result.ok ? ('forced' as const) : ('failed' as const) };
    },
    (error) => ({ ok: false, command: 'force', status: 'failed' as const, database: placesOf(options).database, notices: [], error }),
  );
}
