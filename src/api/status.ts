import { readStatus, type StatusResult as EngineStatusResult } from '../engine/status.js';
import type { CommandResult } from '../results.js';
import { withDatabase } from './database.js';
import { settle, type MigrationsOptions, placesOf, type Settled } from './options.js';

// `status` (the CLI's `version`/`current`) and `history`: read-only, no lock, nothing written.

/** `clean` or `dirty` (a no-transaction migration failed half-way): the version as it is; `listed`: history. */
export type StatusStatus = 'clean' | 'dirty' | 'listed' | 'failed';

export type StatusResult = EngineStatusResult & CommandResult & { status: StatusStatus };

async function read(command: 'version' | 'history', options: MigrationsOptions): Promise<Settled<StatusResult>> {
  return settle(
    command,
    async () => {
      // The version lives in the database alone; the files only add names, so `version` goes on without them.
      const optional = async <S>(load: () => Promise<S>): Promise<S | undefined> => {
        try {
          return await load();
        } catch (error) {
          if (command === 'history') throw error;
          return undefined;
        }
      };
      // `version` is a read of the version row and the history: the files are read only when the history cannot name the version (another tool applied it).
      const result = await withDatabase(options, { command }, async (driver, loadSet) => {
        if (command === 'history') return readStatus(driver, await loadSet(), command);
        const bare = await readStatus(driver, undefined, command);
        if (!bare.ok || !bare.current || bare.current.version === 0 || bare.current.name) return bare;
        return readStatus(driver, await optional(loadSet), command);
      });
      const status: StatusStatus = !result.ok ? 'failed' : command === 'history' ? 'listed' : result.current?.dirty ? 'dirty' : 'clean';
      return { ...result, status };
    },
    (error) => ({ ok: false, command, status: 'failed' as const, ...placesOf(options), migrationsStatus: [], history: [], problems: [], error }),
  );
}

/** `dbshift version`: the database's version, its name, and whether it is dirty. */
export function status(options: MigrationsOptions = {}): Promise<Settled<StatusResult>> {
  return read('version', options);
}

/** `dbshift history`: every migration, applied and pending, with times and checksums, then the log. */
export function history(options: MigrationsOptions = {}): Promise<Settled<StatusResult>> {
  return read('history', options);
}
