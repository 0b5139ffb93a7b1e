import fs from 'node:fs';
import path from 'node:path';
import { checksumPathFor, readChecksumFile, sha256File } from '../files/checksum.js';
import { compareBackupNames, parseBackupName, type BackupFormat } from '../files/names.js';

export interface BackupEntry {
  /** The database it is a backup of, by file name without extension (app for app.db). */
  database: string;
  /** A SQLite file, or a PostgreSQL pg_dump archive. */
  format: BackupFormat;
  path: string;
  /** When it was taken, from its name (local time, as written). */
  takenAt: string;
  bytes: number;
  checksum: 'ok' | 'mismatch' | 'missing';
}

/** Backup file names in `backupDir` (of one database and format, or all), newest first. Reads names only. */
export function backupNames(backupDir: string, only?: { database?: string; format?: BackupFormat }): string[] {
  if (!fs.existsSync(backupDir)) return [];
  return fs
    .readdirSync(backupDir)
    .filter((n) => {
      const parsed = parseBackupName(n);
      return parsed !== undefined && (only?.database === undefined || parsed.database === only.database) && (only?.format === undefined || parsed.format === only.format);
    })
    .sort(compareBackupNames)
    .reverse();
}

/**
 * `dbshift backups`: every backup in the directory, of every database (migrate's
 * health_records_backup_*, up/down's app_backup_*, PostgreSQL's pg_dump archives), newest
 * first, grouped by database, with whether each checksum still matches.
 */
export async function listBackups(backupDir: string): Promise<BackupEntry[]> {
  const entries: BackupEntry[] = [];
  for (const name of backupNames(backupDir)) {
    const file = path.join(backupDir, name);
    const { database, day, time, format } = parseBackupName(name)!;
    entries.push({
      database,
      format,
      path: file,
      takenAt: `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)} ${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4)}`,
      bytes: fs.statSync(file).size,
      checksum: await checksumState(file),
    });
  }
  // Stable: grouped by database name, newest first within each.
  return entries.sort((a, b) => a.database.localeCompare(b.database));
}

export async function checksumState(file: string): Promise<BackupEntry['checksum']> {
  if (!fs.existsSync(checksumPathFor(file))) return 'missing';
  try {
    return readChecksumFile(file) === (await sha256File(file)) ? 'ok' : 'mismatch';
  } catch {
    return 'mismatch';
  }
}
