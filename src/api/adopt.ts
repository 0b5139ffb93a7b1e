import { adoptDatabase, type AdoptResult as EngineAdoptResult } from '../engine/adopt.js';
import type { CommandResult } from '../results.js';
import { withDatabase } from './database.js';
import { milliseconds, placesOf, settle, type MigrationsOptions, type Settled, type WaitOptions } from './options.js';

export type AdoptResult = EngineAdoptResult & CommandResult & { status: 'adopted' | 'failed' };

/** `dbshift adopt`: record the version another tool's table (Alembic, Flyway) maps to in the directory; changes nothing else. */
export function adopt(options: MigrationsOptions & WaitOptions): Promise<Settled<AdoptResult>> {
  return settle(
    'adopt',
    async () => {
      const waitMs = milliseconds(options.wait, 'wait');
      const result = await withDatabase(options, { command: 'adopt' }, async (driver, loadSet) =>
        adoptDatabase(driver, await loadSet(), { ...(options.signal ? { signal: options.signal } : {}), ...(waitMs !== undefined ? { wait: true, waitMs } : {}) }),
      );
      return { ...result, status: result.ok ? ('adopted' as const) : ('failed' as const) };
    },
    (error) => ({ ok: false, command: 'adopt', status: 'failed' as const, database: placesOf(options).database, recorded: false, notices: [], error }),
  );
}
