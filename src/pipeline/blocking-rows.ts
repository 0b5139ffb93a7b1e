import { DataError } from '../errors.js';
import type { BlockingRows } from '../plans/unit.js';
import type { Db } from '../sqlite/open.js';
import { quote } from '../plans/build.js';

/** Rows the unit cannot migrate correctly: refused (65) with their count and first ids, by preflight or after the build. */
export function refuseBlockingRows(blocking: BlockingRows[], dataState = 'Nothing was changed.'): void {
  const first = blocking[0];
  if (!first) return;
  throw new DataError(first.code, `${first.count} ${first.message} (ids ${first.ids.join(', ')}${first.count > first.ids.length ? ', …' : ''}).`, {
    hint: 'Correct these rows in the source (the app cannot have written them), then run again.',
    dataState,
  });
}

/**
 * A table's rows, estimated without reading them, for progress and space: its largest rowid (one
 * b-tree descent), but no more than the file could hold at 32 bytes a row (sparse ids, 2^62).
 */
export function estimatedRows(db: Db, table: string): number {
  try {
    const row = db.prepare(`SELECT max(rowid) AS n FROM ${quote(table)}`).get() as { n: number | bigint | null } | undefined;
    const bytes = Number(db.pragma('page_count', { simple: true })) * Number(db.pragma('page_size', { simple: true }));
    return Math.min(Math.max(0, Number(row?.n ?? 0)), Math.ceil(bytes / 32));
  } catch {
    return 0; // WITHOUT ROWID or virtual: no rowid to ask
  }
}
