import fs from 'node:fs';
import path from 'node:path';
import { toToolError } from '../errors.js';
import { cannotCreate, PRIVATE_FILE_MODE } from './create.js';
import { fsyncDirectory, fsyncPath } from './durable.js';
import { freeStampedPath, replacedPrefix } from './names.js';

/** The files that together are one SQLite database's state. */
export const COMPANION_SUFFIXES = ['', '-wal', '-shm', '-journal'] as const;
const SIDE_FILES = ['-wal', '-shm', '-journal'] as const;

/** Remove a file dbshift created and did not publish, with any journal SQLite made beside it. */
export function removeDatabaseFiles(file: string): void {
  for (const suffix of COMPANION_SUFFIXES) fs.rmSync(file + suffix, { force: true });
}

/**
 * Nothing is ever deleted: before a database is replaced, a copy of it goes into the backup
 * directory as <name>_replaced_<stamp>.db (health_records_replaced_… for health_records.db). The main file is hard-linked (copied
 * across filesystems), so it *stays in place* until the caller renames the new file over it:
 * at no moment is there no database at the target. Its -wal/-shm/-journal are moved beside
 * the copy, where SQLite finds them again, and so that they cannot be applied to the new file.
 * Returns the copy's path, or undefined when there was nothing to keep.
 */
export function preserveIntoBackups(target: string, backupDir: string, now: Date): string | undefined {
  if (!COMPANION_SUFFIXES.some((suffix) => fs.existsSync(target + suffix))) return undefined;
  const destination = freeStampedPath(backupDir, replacedPrefix(target), now, '.db');
  if (fs.existsSync(target)) linkOrCopy(target, destination);
  for (const suffix of SIDE_FILES) {
    if (fs.existsSync(target + suffix)) moveFile(target + suffix, destination + suffix);
  }
  fsyncDirectory(path.dirname(target));
  fsyncDirectory(backupDir);
  return destination;
}

function linkOrCopy(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw cannotCreate(to, error);
    copyDurably(from, to);
  }
}

function moveFile(from: string, to: string): void {
  if (fs.existsSync(to)) throw cannotCreate(to, Object.assign(new Error(`${to} exists`), { code: 'EEXIST' }));
  try {
    fs.renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw toToolError(error, to);
    // Backups on another filesystem: copy completely and durably, only then remove the original.
    copyDurably(from, to);
    fs.unlinkSync(from);
  }
}

function copyDurably(from: string, to: string): void {
  try {
    fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL);
    fs.chmodSync(to, PRIVATE_FILE_MODE);
    fsyncPath(to);
  } catch (error) {
    throw cannotCreate(to, error);
  }
}
