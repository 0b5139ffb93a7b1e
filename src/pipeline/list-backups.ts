import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { checksumPathFor, readChecksumFile, sha256File } from '../files/checksum.js';
import { BACKUP_NAME_PATTERN } from '../files/names.js';

export interface BackupEntry {
  path: string;
  /** When it was taken, from its name (local time, as written). */
  takenAt: string;
  bytes: number;
  checksum: 'ok' | 'mismatch' | 'missing';
}

/** `dbshift backups`: every backup, newest first, with whether its checksum still matches. */
export async function listBackups(config: Config): Promise<BackupEntry[]> {
  if (!fs.existsSync(config.backupDir)) return [];
  const names = fs
    .readdirSync(config.backupDir)
    .filter((n) => BACKUP_NAME_PATTERN.test(n))
    .sort(compareBackupNames)
    .reverse();
  const entries: BackupEntry[] = [];
  for (const name of names) {
    const file = path.join(config.backupDir, name);
    const [, day = '', time = ''] = BACKUP_NAME_PATTERN.exec(name) ?? [];
    let checksum: BackupEntry['checksum'] = 'missing';
    if (fs.existsSync(checksumPathFor(file))) {
      try {
        checksum = readChecksumFile(file) === (await sha256File(file)) ? 'ok' : 'mismatch';
      } catch {
        checksum = 'mismatch';
      }
    }
    entries.push({
      path: file,
      takenAt: `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)} ${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4)}`,
      bytes: fs.statSync(file).size,
      checksum,
    });
  }
  return entries;
}

/** Oldest first: by stamp, then by the _2, _3 suffix of backups taken in the same second. */
export function compareBackupNames(a: string, b: string): number {
  const key = (n: string) => {
    const [, day = '', time = '', seq = '1'] = BACKUP_NAME_PATTERN.exec(n) ?? [];
    return `${day}${time}${seq.padStart(6, '0')}`;
  };
  return key(a).localeCompare(key(b));
}
