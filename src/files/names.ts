import fs from 'node:fs';
import path from 'node:path';
import { CannotCreateError } from '../errors.js';

// File names follow the operator guide: health_records_backup_YYYYMMDD_HHMMSS.db, in local time
// like `date +%Y%m%d_%H%M%S`. A second file in the same second gets _2, _3, … instead of
// ever replacing the first. Every command names a database's backups the same way, keyed by
// the database's file name: app.db -> app_backup_<stamp>.db, health_records.db ->
// health_records_backup_<stamp>.db.

export function stamp(now: Date): string {
  // Six numbers, zero-padded: not worth a date library's forty modules on every command's start.
  const two = (n: number) => String(n).padStart(2, '0');
  return `${String(now.getFullYear()).padStart(4, '0')}${two(now.getMonth() + 1)}${two(now.getDate())}_${two(now.getHours())}${two(now.getMinutes())}${two(now.getSeconds())}`;
}

/**
 * First free `<dir>/<prefix>_<stamp>[_n]<ext>`, also free of `.sha256` and `-wal`/`-shm`
 * companions. A regular file at a name is never overwritten (the next suffix is taken); a
 * symlink at a name is refused: somebody set it up, and dbshift never writes through links.
 */
export function freeStampedPath(dir: string, prefix: string, now: Date, ext: string): string {
  const base = `${prefix}_${stamp(now)}`;
  for (let n = 1; ; n++) {
    const candidate = path.join(dir, `${base}${n === 1 ? '' : `_${n}`}${ext}`);
    const names = [candidate, `${candidate}.sha256`, `${candidate}-wal`, `${candidate}-shm`];
    const link = names.find((p) => lstat(p)?.isSymbolicLink());
    if (link) throw symlinkRefused(link);
    if (!names.some((p) => lstat(p))) return candidate;
  }
}

function lstat(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

export function symlinkRefused(file: string): CannotCreateError {
  return new CannotCreateError('output-is-symlink', `${file} is a symlink; dbshift does not write through links.`, {
    hint: 'Remove the link (or point INSTANCE_DIR / BACKUP_DIR at the real directory) and run again.',
  });
}

export const REPORT_PREFIX = 'health_records_migration';

/** The operator guide's hand copy stands for the live health_records.db: its backups are that database's. */
const HAND_COPY = 'health_records_old.db';

/** Which database a backup belongs to: the file name without its extension. */
export function backupKey(database: string): string {
  const name = path.basename(database);
  if (name === HAND_COPY) return 'health_records';
  return name.replace(/\.(db|sqlite3?|db3)$/i, '') || name;
}

export function backupPrefix(database: string): string {
  return `${backupKey(database)}_backup`;
}

/** Where a replaced file (restore, migrate's publish) is kept: <key>_replaced_<stamp>.db. */
export function replacedPrefix(database: string): string {
  return `${backupKey(database)}_replaced`;
}

/** <key>_backup_<YYYYMMDD>_<HHMMSS>[_n].db (SQLite) or .dump (PostgreSQL's pg_dump -Fc), for any database. */
export const BACKUP_NAME_PATTERN = /^(.+)_backup_(\d{8})_(\d{6})(?:_(\d+))?\.(db|dump)$/;

/** What a backup file is: a SQLite database, or a pg_dump archive (restored with pg_restore). */
export type BackupFormat = 'sqlite' | 'pg_dump';

export interface BackupName {
  database: string;
  day: string;
  time: string;
  seq: number;
  format: BackupFormat;
}

export function parseBackupName(name: string): BackupName | undefined {
  const match = BACKUP_NAME_PATTERN.exec(name);
  if (!match) return undefined;
  return { database: match[1]!, day: match[2]!, time: match[3]!, seq: Number(match[4] ?? 1), format: match[5] === 'dump' ? 'pg_dump' : 'sqlite' };
}

/** Oldest first: by stamp, then by the _2, _3 suffix of backups taken in the same second. */
export function compareBackupNames(a: string, b: string): number {
  const key = (n: string) => {
    const parsed = parseBackupName(n);
    return parsed ? `${parsed.day}${parsed.time}${String(parsed.seq).padStart(6, '0')}` : '';
  };
  return key(a).localeCompare(key(b));
}
