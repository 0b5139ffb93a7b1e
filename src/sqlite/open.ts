import Database from 'better-sqlite3';
import { BusyError, toToolError } from '../errors.js';

import type { Db } from './db.js';

export type { Db };

/**
 * Open a database that dbshift must not write (the production source, a backup). Read-only
 * connections never checkpoint or roll back, so the file's bytes stay exactly as they were.
 */
export function openReadonly(file: string, busyTimeoutMs: number): Db {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
    // Touch the schema now so "not a database" surfaces here, not in some later step.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (error) {
    throw toToolError(error, file);
  }
}

/** Open a file that dbshift owns and writes (the work file). */
export function openWritable(file: string, busyTimeoutMs: number): Db {
  try {
    const db = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (error) {
    throw toToolError(error, file);
  }
}

/**
 * Fail with BusyError if another process holds (or is waiting to take) the write lock.
 *
 * A read-only connection cannot tell: its BEGIN IMMEDIATE succeeds even while another process
 * is inside one. So this opens a short-lived read-write connection, asks for the write lock
 * and rolls back without writing. `keepAlive` must be an open connection to the same file: as
 * long as it stays open, closing the probe is not the last close, so SQLite does not
 * checkpoint a WAL database and the source's bytes are untouched.
 */
export function assertNotWriteLocked(file: string, busyTimeoutMs: number, keepAlive: Db): void {
  if (!keepAlive.open) throw new Error('assertNotWriteLocked needs an open keep-alive connection');
  let probe: Db | undefined;
  try {
    probe = new Database(file, { fileMustExist: true, timeout: busyTimeoutMs });
    probe.exec('BEGIN IMMEDIATE');
    probe.exec('ROLLBACK');
  } catch (error) {
    const tool = toToolError(error, file);
    if (tool instanceof BusyError) {
      throw new BusyError('source-busy', `${file} is locked for writing by another process (waited ${busyTimeoutMs} ms).`, {
        hint: 'Stop the app and its workers (Flask, Celery) so nothing writes the database, then run again.',
        dataState: 'Nothing was changed.',
        cause: error,
      });
    }
    throw tool;
  } finally {
    probe?.close();
  }
}
