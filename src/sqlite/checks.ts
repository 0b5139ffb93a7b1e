import fs from 'node:fs';
import { InputError } from '../errors.js';
import type { Db } from './open.js';

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
const JOURNAL_MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);

function readPrefix(file: string, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const read = fs.readSync(fd, buffer, 0, length, 0);
    return buffer.subarray(0, read);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Refuse anything that is not an SQLite 3 file before SQLite opens it: SQLite happily treats
 * a zero-length file as an empty database, and opening a text file read-write could even
 * write to it.
 */
export function assertSqliteFile(file: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new InputError('source-missing', `${file} does not exist.`, {
      hint: 'Set SOURCE_DB (or --source) to the production database, or put a copy at instance/health_records_old.db.',
      dataState: 'Nothing was changed.',
    });
  }
  if (!stat.isFile()) throw new InputError('not-a-file', `${file} is not a regular file.`, { dataState: 'Nothing was changed.' });
  if (stat.size === 0) {
    throw new InputError('empty-file', `${file} is empty (0 bytes), not a database.`, {
      hint: 'Check the path; a failed copy leaves empty files.',
      dataState: 'Nothing was changed.',
    });
  }
  if (!readPrefix(file, SQLITE_HEADER.length).equals(SQLITE_HEADER)) {
    throw new InputError('not-a-database', `${file} is not an SQLite database (no SQLite header).`, {
      hint: 'Check the path.',
      dataState: 'Nothing was changed.',
    });
  }
}

/** A rollback journal left by a crashed writer. SQLite would roll it back, i.e. write the file. */
export function hasHotJournal(file: string): boolean {
  const journal = `${file}-journal`;
  try {
    if (fs.statSync(journal).size === 0) return false;
    // A journal whose header is zeroed (journal_mode=PERSIST) is not hot.
    return readPrefix(journal, JOURNAL_MAGIC.length).equals(JOURNAL_MAGIC);
  } catch {
    return false;
  }
}

export function walBytes(file: string): number {
  try {
    return fs.statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

/** Returns [] when fine, otherwise SQLite's complaints. */
export function quickCheck(db: Db): string[] {
  return checkComplaints(db.pragma('quick_check') as unknown[]);
}

export function integrityCheck(db: Db, schema = 'main'): string[] {
  return checkComplaints(db.pragma(`${schema}.integrity_check`) as unknown[]);
}

export interface ForeignKeyViolation {
  table: string;
  rowid: number | null;
  parent: string;
}

export function foreignKeyViolations(db: Db, schema = 'main'): ForeignKeyViolation[] {
  return asViolations(db.pragma(`${schema}.foreign_key_check`) as unknown[]);
}

/** foreign_key_check rows (as a worker returns them) as violations. */
export function asViolations(rows: unknown[]): ForeignKeyViolation[] {
  return (rows as Array<{ table: string; rowid: number | null; parent: string }>).map(({ table, rowid, parent }) => ({ table, rowid, parent }));
}

/** Violations in `after` that were not in `before` (a WITHOUT ROWID child has rowid null: compared by table and parent). */
export function newForeignKeyViolations(before: ForeignKeyViolation[], after: ForeignKeyViolation[]): ForeignKeyViolation[] {
  const key = (v: ForeignKeyViolation) => `${v.table}|${v.rowid}|${v.parent}`;
  const known = new Set(before.map(key));
  return after.filter((v) => !known.has(key(v)));
}

/** quick_check / integrity_check rows (as a worker returns them) as complaints: [] when fine. */
export function checkComplaints(rows: unknown[]): string[] {
  const lines = rows.map((row) => String(Object.values(row as object)[0]));
  return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
}
