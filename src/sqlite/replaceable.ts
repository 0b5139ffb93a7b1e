import Database from 'better-sqlite3';
import fs from 'node:fs';
import { BusyError } from '../errors.js';
import { hasHotJournal, walBytes } from './checks.js';

const STOP_THE_APP = 'Stop the app and its workers (Flask, Celery, cron) so nothing has the database open, then run again.';

/**
 * What every command that replaces a database file (migrate's publish, restore) checks first.
 * An app that has the file open keeps its descriptor on the old inode after the rename: its
 * next write lands in the file moved into backups/, not in the one published. And a live -wal
 * or hot journal beside the target would be applied by SQLite to whatever file is put there.
 *
 * Refused (75): a non-empty -wal or a hot journal; any other connection to the file. In WAL
 * mode every connection holds a shared lock on the database file for as long as it is open
 * (sqlite.org/wal.html#noshm); asking for an exclusive lock in EXCLUSIVE locking mode finds it,
 * and finds a reader or writer of a rollback-journal file mid-transaction. An idle connection
 * to a rollback-journal file holds no lock and cannot be seen. Call it with no connection of
 * our own open to the file.
 */
export function assertReplaceable(target: string, busyTimeoutMs: number, dataState: string): void {
  if (!fs.existsSync(target)) return;
  if (walBytes(target) > 0 || hasHotJournal(target)) {
    throw new BusyError('target-live', `${target} has a non-empty -wal or a hot journal beside it: the app may still be running, or it crashed.`, {
      hint: `${STOP_THE_APP} If it is stopped, open the database once with \`sqlite3\` so SQLite folds the journal in.`,
      dataState,
    });
  }
  let probe: Database.Database | undefined;
  try {
    probe = new Database(target, { fileMustExist: true, timeout: busyTimeoutMs });
    probe.pragma('locking_mode = EXCLUSIVE');
    probe.exec('BEGIN EXCLUSIVE');
    probe.exec('ROLLBACK');
  } catch (error) {
    const code = String((error as { code?: unknown }).code ?? '');
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new BusyError('target-live', `${target} is open in another process (waited ${busyTimeoutMs} ms for it to let go): replacing it now would send that process's next writes to the file moved aside.`, {
        hint: STOP_THE_APP,
        dataState,
        cause: error,
      });
    }
    // Not a database, or not writable by us: nothing holds it as a database; the caller's own checks decide.
  } finally {
    probe?.close();
  }
}

/** Two paths naming one file (a symlink, a relative path); false when either does not exist. */
export function isSameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [fs.statSync(a), fs.statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
