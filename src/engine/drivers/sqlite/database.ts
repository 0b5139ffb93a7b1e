import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { InputError, InterruptedError, toToolError } from '../../../errors.js';
import { sha256File, writeChecksumFile } from '../../../files/checksum.js';
import { createEmptyExclusive, ensureDirectory, tempPathBeside } from '../../../files/create.js';
import { publishFile } from '../../../files/durable.js';
import { removeDatabaseFiles } from '../../../files/move-aside.js';
import { backupPrefix, freeStampedPath } from '../../../files/names.js';
import { hitFaultPoint } from '../../../faults.js';
import { hasHotJournal } from '../../../sqlite/checks.js';
import { openReadonly, openWritable, type Db } from '../../../sqlite/open.js';
import { snapshotDatabase } from '../../../sqlite/snapshot.js';

// The SQLite database file as the engine's driver uses it: where it is, reading it without a
// lock, and its backup.

export interface SqliteConfig {
  database: string;
  backupDir: string;
  busyTimeoutMs: number;
  /** The version table (golang-migrate's x-migrations-table; default schema_migrations). */
  versionTable?: string;
  /** Test-only fault injection (see pipeline/faults.ts); the CLI passes it only under NODE_ENV=test. */
  fault?: string;
}

export function missingDatabase(database: string): InputError {
  return new InputError('missing-database', `There is no database at ${database}.`, {
    hint: 'Check --database (or DATABASE); to start a new, empty database on purpose, run `dbshift up --create`.',
    dataState: 'Nothing was changed.',
  });
}

/**
 * Open for reading only (version, history, validate, dry runs): takes no lock, writes nothing,
 * with one exception: a hot journal left by a write that died (a kill, a full disk) is rolled
 * back first, as any SQLite writer would on opening; a read-only connection cannot, and would
 * otherwise fail or report the half-written state instead of the truth.
 */
export function withReadonlyDatabase<T>(config: SqliteConfig, fn: (db: Db | undefined) => T): T {
  if (!fs.existsSync(config.database)) return fn(undefined);
  if (hasHotJournal(realPath(config.database))) openWritable(config.database, config.busyTimeoutMs).close();
  const db = openReadonly(config.database, config.busyTimeoutMs);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/**
 * A partial backup's name says whose it is: backup directories are shared, and two databases
 * may have the same file name. Only the lock of the database it belongs to may remove it.
 */
export function partialPurpose(realFile: string): string {
  return `partial-${createHash('sha256').update(realFile).digest('hex').slice(0, 12)}`;
}

/** The file a path names, through any symlinks; itself if it does not exist yet. */
export function realPath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return file;
  }
}

/**
 * A timestamped, checksummed backup beside the others (`<name>_backup_<stamp>.db` + `.sha256`),
 * taken with the online backup API from the open connection, so `dbshift backups` lists it and
 * `dbshift restore` can bring it back.
 */
export async function backupDatabase(db: Db, config: SqliteConfig, now: Date, signal?: AbortSignal): Promise<{ path: string; sha256: string }> {
  const backupDir = ensureDirectory(config.backupDir);
  const final = freeStampedPath(backupDir, backupPrefix(config.database), now, '.db');
  const partial = tempPathBeside(final, partialPurpose(realPath(config.database)));
  try {
    createEmptyExclusive(partial);
    await snapshotDatabase(db, partial, undefined, () => {
      hitFaultPoint(config.fault, 'engine-backup-pages');
      if (signal?.aborted) throw new InterruptedError('interrupted', 'Interrupted while taking the backup.', { dataState: 'Nothing was changed; the partial backup was removed.' });
    });
    const sha256 = await sha256File(partial);
    publishFile(partial, final, 'new-name');
    writeChecksumFile(final, sha256);
    return { path: final, sha256 };
  } catch (error) {
    removeDatabaseFiles(partial);
    throw toToolError(error, partial);
  }
}
