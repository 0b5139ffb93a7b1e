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

/** A table's rows, estimated without reading them (its largest rowid: one b-tree descent), for progress and space. */
export function estimatedRows(db: Db, table: string): number {
  try {
    const row = db.prepare(`SELECT max(rowid) AS n FROM ${quote(table)}`).get() as { n: number | null } | undefined;
    return Number(row?.n ?? 0);
  } catch {
    return 0; // WITHOUT ROWID or virtual: no rowid to ask
  }
}
