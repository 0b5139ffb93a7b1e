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
 * Atomically move `from` to `to` in the same directory and make it durable. Refuses to replace
 * an existing file at `to`: callers that replace something move it aside first.
 */
export function renameIntoPlace(from: string, to: string): void {
  try {
    fsyncPath(from);
  } catch (error) {
    throw toToolError(error, from);
  }
  try {
    // link() fails with EEXIST instead of silently replacing, which rename() would do.
    fs.linkSync(from, to);
    fs.unlinkSync(from);
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

export function exists(file: string): boolean {
  return fs.existsSync(file);
}

/**
 * Atomically put `from` at `to`, replacing whatever is there, and make it durable. Callers
 * preserve the old file first (preserveIntoBackups): rename() is the one step that swaps
 * them, so a crash leaves either the old or the new file, never neither.
 */
export function replaceAtomically(from: string, to: string): void {
  try {
    fsyncPath(from);
  } catch (error) {
    throw toToolError(error, from);
  }
  try {
    fs.renameSync(from, to);
    fsyncDirectory(path.dirname(to));
  } catch (error) {
    throw toToolError(error, to);
  }
}
