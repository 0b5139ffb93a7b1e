import { forceVersion, type ForceResult as EngineForceResult } from '../engine/force.js';
import type { CommandResult } from '../results.js';
import { configOf, engineConfigOf, migrationSetOf, milliseconds, settle, type MigrationsOptions, type WaitOptions, type Settled } from './options.js';

export interface ForceOptions extends MigrationsOptions, WaitOptions {
  /** The version the database really is at (0: nothing applied). */
  version: number;
}

export type ForceResult = EngineForceResult & CommandResult & { status: 'forced' | 'failed' };

/** `dbshift force V`: mark the database clean at V after a failed no-transaction migration was finished or undone by hand. Runs nothing. */
export function force(options: ForceOptions): Promise<Settled<ForceResult>> {
  return settle(
    'force',
    async () => {
      const config = configOf(options);
      const waitMs = milliseconds(options.wait, 'wait');
      const result = await forceVersion(engineConfigOf(config), await migrationSetOf(config, options.set), options.version, {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(waitMs !== undefined ? { waitMs } : {}),
      });
      return { ...result, status: result.ok ? ('forced' as const) : ('failed' as const) };
    },
    (error) => ({ ok: false, command: 'force', status: 'failed' as const, database: options.database ?? '', notices: [], error }),
  );
}
