import { forceVersion, type ForceResult as EngineForceResult } from '../engine/force.js';
import { resolveRevision } from '../engine/plan.js';
import type { PlannableMigration } from '../engine/types.js';
import type { CommandResult } from '../results.js';
import { withDatabase } from './database.js';
import { milliseconds, placesOf, settle, type MigrationsOptions, type Settled, type WaitOptions } from './options.js';

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

export type ForceResult = EngineForceResult & CommandResult & { status: 'forced' | 'failed' };

/** `dbshift force V`: mark the database clean at V after a failed no-transaction migration was finished or undone by hand. Runs nothing. */
export function force(options: ForceOptions): Promise<Settled<ForceResult>> {
  return settle(
    'force',
    async () => {
      const waitMs = milliseconds(options.wait, 'wait');
      const result = await withDatabase(options, { command: 'force' }, async (driver, loadSet) => {
        const set = await loadSet();
        return forceVersion(driver, set, stampedVersion(set, options.version), {
          ...(options.signal ? { signal: options.signal } : {}),
          ...(waitMs !== undefined ? { wait: true, waitMs } : {}),
        });
      });
      return { ...result, status: result.ok ? ('forced' as const) : ('failed' as const) };
    },
    (error) => ({ ok: false, command: 'force', status: 'failed' as const, database: placesOf(options).database, notices: [], error }),
  );
}
