import fs from 'node:fs';
import path from 'node:path';
import { CannotCreateError, toToolError } from '../errors.js';
import { symlinkRefused } from './names.js';

// Every file dbshift creates holds patient data or points at it: owner-only, never through
// a symlink, never over an existing file.
export const PRIVATE_FILE_MODE = 0o600;
const EXCLUSIVE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/** Open a new file for writing; fails if anything (file or symlink) already stands at `file`. */
export function openExclusive(file: string): number {
  try {
    return fs.openSync(file, EXCLUSIVE_FLAGS, PRIVATE_FILE_MODE);
  } catch (error) {
    throw cannotCreate(file, error);
  }
}

/** Create an empty private file, e.g. so that SQLite then opens a file that is already 0600. */
export function createEmptyExclusive(file: string): void {
  fs.closeSync(openExclusive(file));
}

/** Write a small file (checksum, report, lock) completely and durably, refusing to replace anything. */
export function writeFileExclusive(file: string, content: string): void {
  const fd = openExclusive(file);
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw toToolError(error, file);
  }
  fs.closeSync(fd);
}

export function cannotCreate(file: string, error: unknown): Error {
  const code = (error as { code?: string }).code;
  if (code === 'ELOOP' || (code === 'EEXIST' && isSymlink(file))) return symlinkRefused(file);
  if (code === 'EEXIST') {
    return new CannotCreateError('output-exists', `${file} already exists; dbshift never overwrites a file.`, {
      hint: 'Move it away (or into the backup directory) and run again.',
      cause: error,
    });
  }
  return toToolError(error, file);
}

/**
 * Make sure a configured directory exists (created 0700 when missing). A directory that is
 * itself a symlink is allowed (backups on a bigger disk) and resolved, so that messages name
 * where files really go.
 */
export function ensureDirectory(dir: string): string {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const real = fs.realpathSync(dir);
    if (!fs.statSync(real).isDirectory()) {
      throw new CannotCreateError('not-a-directory', `${dir} is not a directory.`);
    }
    return real;
  } catch (error) {
    throw toToolError(error, dir);
  }
}

/** Temp names carry this marker so that a later run recognises its own leftovers. */
export const TEMP_MARKER = '.dbshift-tmp';

export function tempPathBeside(finalPath: string, purpose: string): string {
  const dir = path.dirname(finalPath);
  return path.join(dir, `.${path.basename(finalPath)}.${purpose}${TEMP_MARKER}`);
}

export function isSymlink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
