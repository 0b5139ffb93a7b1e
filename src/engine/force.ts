import { InputError } from '../errors.js';
import { errorReport, withLockedDatabase, type EngineConfig, type EngineOptions, type ErrorReport } from './session.js';
import { appendHistory, ensureStateTables, readVersion, writeVersion } from './state.js';
import type { MigrationSet, VersionState } from './types.js';

// golang-migrate's `force V`: after a failed no-transaction migration left the database dirty
// and a human finished or undid its work, record version V as clean. Nothing else runs.

export interface ForceResult {
  ok: boolean;
  command: string;
  database: string;
  before?: VersionState;
  after?: VersionState;
  notices: string[];
  error?: ErrorReport;
}

export async function forceVersion(config: EngineConfig, set: MigrationSet, version: number, options: EngineOptions = {}): Promise<ForceResult> {
  const now = options.now ?? (() => new Date());
  const result: ForceResult = { ok: false, command: 'force', database: config.database, notices: [] };
  try {
    const migration = set.migrations.find((m) => m.version === version);
    if (!Number.isInteger(version) || version < 0 || (version !== 0 && !migration)) {
      throw new InputError('unknown-version', `There is no migration with version ${version} to force.`, {
        hint: 'Force a version that exists (see `dbshift history`), or 0 for "nothing applied".',
        dataState: 'Nothing was changed.',
      });
    }
    await withLockedDatabase(config, 'force', options, async ({ db, notices }) => {
      result.notices.push(...notices);
      result.before = readVersion(db);
      db.transaction(() => {
        ensureStateTables(db);
        writeVersion(db, { version, dirty: false });
        appendHistory(db, { version, name: migration?.name ?? 'base', direction: 'force', checksum: migration?.checksum ?? null, appliedAt: now().toISOString(), durationMs: 0 });
      })();
      result.after = readVersion(db);
    });
    result.ok = true;
  } catch (error) {
    result.error = errorReport(error);
  }
  return result;
}
