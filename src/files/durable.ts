import fs from 'node:fs';
import path from 'node:path';
import { toToolError } from '../errors.js';

export function fsyncPath(file: string): void {
  const fd = fs.openSync(file, fs.constants.O_RDONLY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** A rename is only durable once the directory entry itself is on disk. */
export function fsyncDirectory(dir: string): void {
  try {
    fsyncPath(dir);
  } catch (error) {
    throw toToolError(error, dir);
  }
}

/**
 * Atomically put `from` (in the same directory) at `to` and make it durable: fsync the file,
 * swap the name, fsync the directory.
 * - `new-name`: `to` must not exist; link() fails with EEXIST where rename() would replace.
 * - `replace`: `to` is replaced in one rename(); callers keep the old file first
 *   (preserveIntoBackups), so a crash leaves either the old or the new file, never neither.
 */
export function publishFile(from: string, to: string, mode: 'new-name' | 'replace'): void {
  try {
    fsyncPath(from);
  } catch (error) {
    throw toToolError(error, from);
  }
  try {
    if (mode === 'replace') {
      fs.renameSync(from, to);
    } else {
      fs.linkSync(from, to);
      fs.unlinkSync(from);
    }
    fsyncDirectory(path.dirname(to));
  } catch (error) {
    throw toToolError(error, to);
  }
}

export function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * fsync on libuv's thread pool, so that the disk writes a file back while the run goes on.
 * The promise never rejects unobserved: a failure surfaces where it is awaited.
 */
export function fsyncInBackground(file: string): Promise<void> {
  const synced = new Promise<void>((resolve, reject) => {
    fs.open(file, 'r', (openError, fd) => {
      if (openError) return reject(toToolError(openError, file));
      fs.fsync(fd, (syncError) => {
        fs.close(fd, () => (syncError ? reject(toToolError(syncError, file)) : resolve()));
      });
    });
  });
  synced.catch(() => {});
  return synced;
}
