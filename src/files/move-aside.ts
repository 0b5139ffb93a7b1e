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
 * directory as <name>_replaced_<stamp>.db (health_records_replaced_… for health_records.db).
 * See keepAs. Returns the copy's path, or undefined when there was nothing to keep.
 */
export function preserveIntoBackups(target: string, backupDir: string, now: Date): string | undefined {
  if (!COMPANION_SUFFIXES.some((suffix) => fs.existsSync(target + suffix))) return undefined;
  const destination = freeStampedPath(backupDir, replacedPrefix(target), now, '.db');
  keepAs(target, destination, 'link-or-copy');
  return destination;
}

/**
 * Give `file` a second name, `destination` (in the backup directory), so that it *stays in
 * place* until the caller renames a new file over it: at no moment is there no database at
 * `file`. The main file is hard-linked (no bytes written); across filesystems it is copied
 * durably (`link-or-copy`), or the EXDEV error is thrown (`link-only`). Its -wal/-shm/-journal
 * are moved beside the new name, where SQLite finds them again, and so that they cannot be
 * applied to the new file. Both directories are fsynced.
 */
export function keepAs(file: string, destination: string, how: 'link-or-copy' | 'link-only'): void {
  if (fs.existsSync(file)) {
    if (how === 'link-only') linkNew(file, destination);
    else linkOrCopy(file, destination);
  }
  for (const suffix of SIDE_FILES) {
    if (fs.existsSync(file + suffix)) moveFile(file + suffix, destination + suffix);
  }
  fsyncDirectory(path.dirname(file));
  fsyncDirectory(path.dirname(destination));
}

/** A hard link at a new name; EXDEV (another filesystem) is thrown as it is, for the caller to fall back on. */
export function linkNew(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EXDEV') throw error;
    throw cannotCreate(to, error);
  }
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

/**
 * Remove `name` if it is only a second name of `database` (the same inode), with its .sha256:
 * a publish that gave the old file the backup's name but was stopped before the new file
 * replaced it. The database keeps every byte under its own name; the second name would
 * otherwise pose as an independent backup of a file that the app goes on writing. The -wal and
 * -shm that were moved beside the second name go back beside the database (or, when the
 * database has new ones, the -shm and an empty -wal are removed). Returns whether it removed it.
 */
export function dropSecondName(name: string, database: string): boolean {
  let a: fs.Stats;
  let b: fs.Stats;
  try {
    a = fs.lstatSync(name);
    b = fs.statSync(database);
  } catch {
    return false;
  }
  if (!a.isFile() || a.dev !== b.dev || a.ino !== b.ino) return false;
  fs.rmSync(`${name}.sha256`, { force: true });
  fs.unlinkSync(name);
  for (const suffix of ['-wal', '-shm']) {
    const side = name + suffix;
    if (!fs.existsSync(side)) continue;
    if (!fs.existsSync(database + suffix)) moveFile(side, database + suffix);
    else if (suffix === '-shm' || fs.statSync(side).size === 0) fs.unlinkSync(side);
  }
  fsyncDirectory(path.dirname(name));
  fsyncDirectory(path.dirname(database));
  return true;
}
