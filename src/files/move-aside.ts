import fs from 'node:fs';
import path from 'node:path';
import { toToolError } from '../errors.js';
import { cannotCreate as cannotCreateOrIo, PRIVATE_FILE_MODE } from './create.js';
import { fsyncDirectory, fsyncPath } from './durable.js';
import { freeStampedPath, REPLACED_PREFIX } from './names.js';

/** The files that together are one SQLite database's state. */
export const COMPANION_SUFFIXES = ['', '-wal', '-shm', '-journal'] as const;

/**
 * Nothing is ever deleted: a database that is about to be replaced is moved into the backup
 * directory as health_records_replaced_<stamp>.db, together with its -wal/-shm/-journal so
 * that SQLite still sees the same content when the moved copy is opened.
 * Returns the new path of the main file, or undefined when there was nothing to move.
 */
export function moveAsideIntoBackups(target: string, backupDir: string, now: Date): string | undefined {
  // Stray -wal/-shm without their database move too: SQLite would apply them to a new file.
  if (!COMPANION_SUFFIXES.some((suffix) => fs.existsSync(target + suffix))) return undefined;
  const destination = freeStampedPath(backupDir, REPLACED_PREFIX, now, '.db');
  for (const suffix of COMPANION_SUFFIXES) {
    const from = target + suffix;
    if (fs.existsSync(from)) moveFile(from, destination + suffix);
  }
  fsyncDirectory(path.dirname(target));
  fsyncDirectory(backupDir);
  return destination;
}

function moveFile(from: string, to: string): void {
  try {
    if (fs.existsSync(to)) throw cannotCreateOrIo(to, Object.assign(new Error(`${to} exists`), { code: 'EEXIST' }));
    fs.renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw toToolError(error, to);
    // Backups on another filesystem: copy completely and durably, only then remove the original.
    try {
      fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL);
      fs.chmodSync(to, PRIVATE_FILE_MODE);
      fsyncPath(to);
    } catch (copyError) {
      throw cannotCreateOrIo(to, copyError);
    }
    fs.unlinkSync(from);
  }
}
