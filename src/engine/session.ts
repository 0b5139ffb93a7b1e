import fs from 'node:fs';
import path from 'node:path';
import { InputError, toToolError, type ToolError } from '../errors.js';
import { sha256File, writeChecksumFile } from '../files/checksum.js';
import { createEmptyExclusive, ensureDirectory, tempPathBeside } from '../files/create.js';
import { publishFile } from '../files/durable.js';
import { acquireInstanceLock } from '../files/lock.js';
import { removeDatabaseFiles } from '../files/move-aside.js';
import { freeStampedPath } from '../files/names.js';
import { openReadonly, openWritable, type Db } from '../sqlite/open.js';
import { snapshotDatabase } from '../sqlite/snapshot.js';

// What every engine command shares: where the database is, the lock, the connection, the
// backup, and turning a thrown ToolError into the result's `error`.

export interface EngineConfig {
  database: string;
  backupDir: string;
  busyTimeoutMs: number;
}

export interface EngineOptions {
  now?: () => Date;
  signal?: AbortSignal;
  /** One line per event for the operator (stderr); tests pass nothing. */
  onEvent?: (message: string) => void;
}

export interface ErrorReport {
  code: string;
  message: string;
  hint?: string;
  dataState?: string;
  exitCode: number;
}

export function errorReport(error: unknown): ErrorReport {
  const tool: ToolError = toToolError(error);
  return {
    code: tool.code,
    message: tool.message,
    ...(tool.hint ? { hint: tool.hint } : {}),
    ...(tool.dataState ? { dataState: tool.dataState } : {}),
    exitCode: tool.exitCode,
  };
}

export function missingDatabase(database: string): InputError {
  return new InputError('missing-database', `There is no database at ${database}.`, {
    hint: 'Check --database (or DATABASE); to start a new, empty database on purpose, run `dbshift up --create`.',
    dataState: 'Nothing was changed.',
  });
}

/** Open for reading only (version, history, validate, dry runs): never writes, takes no lock. */
export function withReadonlyDatabase<T>(config: EngineConfig, fn: (db: Db | undefined) => T): T {
  if (!fs.existsSync(config.database)) return fn(undefined);
  const db = openReadonly(config.database, config.busyTimeoutMs);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/**
 * Under the instance lock (the same `.dbshift.lock` that `dbshift migrate` takes, in the
 * database's directory), with foreign keys off before any transaction: see execute.ts.
 */
export async function withLockedDatabase<T>(
  config: EngineConfig,
  command: string,
  options: EngineOptions & { create?: boolean },
  fn: (db: Db, notices: string[]) => Promise<T>,
): Promise<T> {
  const now = options.now ?? (() => new Date());
  const notices: string[] = [];
  // A mistyped --database must not leave a new directory behind before it is refused.
  if (!options.create && !fs.existsSync(config.database)) throw missingDatabase(config.database);
  const dir = ensureDirectory(path.dirname(config.database));
  const lock = acquireInstanceLock(dir, command, now());
  try {
    if (lock.tookOverFrom) notices.push(`Took over a stale lock of pid ${lock.tookOverFrom.pid}, which is no longer running.`);
    if (!fs.existsSync(config.database)) {
      if (!options.create) throw missingDatabase(config.database);
      createEmptyExclusive(config.database);
      notices.push(`Created a new, empty database at ${config.database}.`);
    }
    const db = openWritable(config.database, config.busyTimeoutMs);
    try {
      db.pragma('foreign_keys = OFF');
      return await fn(db, notices);
    } finally {
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
  const prefix = `${path.basename(config.database).replace(/\.[^.]*$/, '')}_backup`;
  const final = freeStampedPath(backupDir, prefix, now, '.db');
  const partial = tempPathBeside(final, 'partial');
  try {
    createEmptyExclusive(partial);
    await snapshotDatabase(db, partial, undefined, () => signal?.throwIfAborted());
    const sha256 = await sha256File(partial);
    publishFile(partial, final, 'new-name');
    writeChecksumFile(final, sha256);
    return { path: final, sha256 };
  } catch (error) {
    removeDatabaseFiles(partial);
    throw toToolError(error, partial);
  }
}
