import { format } from 'date-fns';
import fs from 'node:fs';
import path from 'node:path';

// File names follow the operator guide: health_records_backup_YYYYMMDD_HHMMSS.db, in local time
// like `date +%Y%m%d_%H%M%S`. A second file in the same second gets _2, _3, … instead of
// ever replacing the first.

export function stamp(now: Date): string {
  return format(now, 'yyyyMMdd_HHmmss');
}

/** First free `<dir>/<prefix>_<stamp>[_n]<ext>`, also free of `<name>.sha256` and `-wal` companions. */
export function freeStampedPath(dir: string, prefix: string, now: Date, ext: string): string {
  const base = `${prefix}_${stamp(now)}`;
  for (let n = 1; ; n++) {
    const candidate = path.join(dir, `${base}${n === 1 ? '' : `_${n}`}${ext}`);
    const taken = [candidate, `${candidate}.sha256`, `${candidate}-wal`, `${candidate}-shm`].some((p) => lexists(p));
    if (!taken) return candidate;
  }
}

function lexists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

export const BACKUP_PREFIX = 'health_records_backup';
export const REPLACED_PREFIX = 'health_records_replaced';
export const REPORT_PREFIX = 'health_records_migration';
export const BACKUP_NAME_PATTERN = /^health_records_backup_(\d{8})_(\d{6})(?:_(\d+))?\.db$/;
