import { InputError } from '../errors.js';
import { resultError, type ResultError } from '../results.js';
import type { Driver } from './driver.js';
import type { HistoryEntry, MigrationSet, VersionState } from './types.js';
import { locked, type LockedOptions } from './versions.js';

// golang-migrate's `force V`: after a failed no-transaction migration left the database dirty
// and a human finished or undid its work, record version V as clean. Nothing else runs.

export interface ForceResult {
  ok: boolean;
  command: 'force';
  database: string;
  before?: VersionState;
  after?: VersionState;
  notices: string[];
  error?: ResultError;
}

export async function forceVersion<Ctx>(driver: Driver<Ctx>, set: MigrationSet<Ctx>, version: number, options: LockedOptions & { now?: () => Date } = {}): Promise<ForceResult> {
  const now = options.now ?? (() => new Date());
  const result: ForceResult = { ok: false, command: 'force', database: driver.location, notices: [] };
  try {
    const migration = set.migrations.find((m) => m.version === version);
    if (!Number.isInteger(version) || version < 0 || (version !== 0 && !migration)) {
      throw new InputError('unknown-version', `There is no migration with version ${version} to force.`, {
        hint: 'Force a version that exists (see `dbshift history`), or 0 for "nothing applied".',
        dataState: 'Nothing was changed.',
      });
    }
    await locked(driver, options, async (notices) => {
      result.notices.push(...notices);
      result.before = await driver.readVersion();
      const entry: HistoryEntry = { version, name: migration?.name ?? 'base', direction: 'force', checksum: migration?.checksum ?? null, appliedAt: now().toISOString(), durationMs: 0 };
      await driver.setVersion({ version, dirty: false }, entry);
      result.after = await driver.readVersion();
    });
    result.ok = true;
  } catch (error) {
    result.error = resultError(error);
  }
  return result;
}
