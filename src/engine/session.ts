import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InputError, InterruptedError, toToolError } from '../errors.js';
import { sha256File, writeChecksumFile } from '../files/checksum.js';
import { createEmptyExclusive, ensureDirectory, TEMP_MARKER, tempPathBeside } from '../files/create.js';
import { publishFile } from '../files/durable.js';
import { acquireInstanceLockWaiting } from '../files/lock.js';
import { removeDatabaseFiles } from '../files/move-aside.js';
import { removeLeftovers } from '../files/leftovers.js';
import { hasHotJournal } from '../sqlite/checks.js';
import { hitFaultPoint } from '../faults.js';
import { guardProcessExit } from './exit-guard.js';
import { backupPrefix, freeStampedPath } from '../files/names.js';
import { openReadonly, openWritable, type Db } from '../sqlite/open.js';
import { snapshotDatabase } from '../sqlite/snapshot.js';
import type { ProgressListener } from '../progress.js';
import { resultError, type ResultError } from '../results.js';

// What every engine command shares: where the database is, the lock, the connection, the
// backup, and turning a thrown ToolError into the result's `error`.

export interface EngineConfig {
  database: string;
  backupDir: string;
  busyTimeoutMs: number;
  /** Test-only fault injection (see pipeline/faults.ts); the CLI passes it only under NODE_ENV=test. */
  fault?: string;
}

export interface EngineOptions {
  now?: () => Date;
  signal?: AbortSignal;
  /** The backup and each migration, as they start and end (the CLI prints them on stderr); tests pass nothing. */
  onProgress?: ProgressListener;
  /** Wait this long for another run's lock before giving up with 75 (default 0: refuse at once). */
  waitMs?: number;
}

/** The shared result vocabulary (src/results.ts): one error shape for every command. */
export type ErrorReport = ResultError;
export const errorReport = (error: unknown): ErrorReport => resultError(error);

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
export function withReadonlyDatabase<T>(config: EngineConfig, fn: (db: Db | undefined) => T): T {
  if (!fs.existsSync(config.database)) return fn(undefined);
  if (hasHotJournal(realPath(config.database))) openWritable(config.database, config.busyTimeoutMs).close();
  const db = openReadonly(config.database, config.busyTimeoutMs);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** The file a path names, through any symlinks; itself if it does not exist yet. */
/**
 * A partial backup's name says whose it is: backup directories are shared, and two databases
 * may have the same file name. Only the lock of the database it belongs to may remove it.
 */
function partialPurpose(realFile: string): string {
  return `partial-${createHash('sha256').update(realFile).digest('hex').slice(0, 12)}`;
}

function realPath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return file;
  }
}

export interface LockedDatabase {
  /** For reading the state and taking the backup; migrations get their own connections. */
  db: Db;
  /** A new connection to the same file, for one migration. */
  open(): Db;
  notices: string[];
  /** This run created the file (`create`): it held nothing a backup could keep. */
  created: boolean;
}

/**
 * Under the instance lock (the same `.dbshift.lock` that `dbshift migrate` takes), in the
 * directory of the database's real file: two runs that reach one file through different paths
 * (a symlink) must take the same lock.
 */
export async function withLockedDatabase<T>(
  config: EngineConfig,
  command: string,
  options: EngineOptions & { create?: boolean },
  fn: (locked: LockedDatabase) => Promise<T>,
): Promise<T> {
  const now = options.now ?? (() => new Date());
  const notices: string[] = [];
  // A mistyped --database must not leave a new directory behind before it is refused.
  if (!options.create && !fs.existsSync(config.database)) throw missingDatabase(config.database);
  const dir = ensureDirectory(path.dirname(realPath(config.database)));
  const lock = await acquireInstanceLockWaiting(dir, command, now, options.waitMs ?? 0, options.signal, (holder) =>
    options.onProgress?.({ step: 'lock', phase: 'start', message: `waiting up to ${options.waitMs} ms for the lock: ${holder}` }),
  );
  try {
    if (lock.tookOverFrom) notices.push(`Took over a stale lock of pid ${lock.tookOverFrom.pid}, which is no longer running.`);
    const created = !fs.existsSync(config.database);
    if (created) {
      if (!options.create) throw missingDatabase(config.database);
      createEmptyExclusive(config.database);
      notices.push(`Created a new, empty database at ${config.database}.`);
    }
    const file = realPath(config.database);
    if (fs.existsSync(config.backupDir)) {
      // Under the lock no other run of this database is active: its partial backups are leftovers.
      const own = partialPurpose(file);
      for (const leftover of removeLeftovers([config.backupDir], (name) => name.includes(`.${own}${TEMP_MARKER}`))) notices.push(`Removed ${leftover}, left by an interrupted run.`);
    }
    const db = openWritable(file, config.busyTimeoutMs);
    const exitGuard = guardProcessExit(() => lock.release(), config.database);
    try {
      db.pragma('foreign_keys = OFF');
      return await fn({ db, open: () => openWritable(file, config.busyTimeoutMs), notices, created });
    } finally {
      exitGuard.release();
      db.close();
    }
  } finally {
    lock.release();
  }
}

/**
 * A timestamped, checksummed backup beside the others (`<name>_backup_<stamp>.db` + `.sha256`),
 * taken with the online backup API from the open connection, so `dbshift backups` lists it and
 * `dbshift restore` can bring it back.
 */
export async function backupDatabase(db: Db, config: EngineConfig, now: Date, signal?: AbortSignal): Promise<{ path: string; sha256: string }> {
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
