import { format } from 'date-fns';
import fs from 'node:fs';
import path from 'node:path';
import { CannotCreateError } from '../errors.js';

// File names follow the operator guide: health_records_backup_YYYYMMDD_HHMMSS.db, in local time
// like `date +%Y%m%d_%H%M%S`. A second file in the same second gets _2, _3, … instead of
// ever replacing the first.

export function stamp(now: Date): string {
  return format(now, 'yyyyMMdd_HHmmss');
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

export const BACKUP_PREFIX = 'health_records_backup';
export const REPLACED_PREFIX = 'health_records_replaced';
export const REPORT_PREFIX = 'health_records_migration';
export const BACKUP_NAME_PATTERN = /^health_records_backup_(\d{8})_(\d{6})(?:_(\d+))?\.db$/;
