import { quoteIdent } from './introspect.js';
import type { Db } from './open.js';

export interface RowidRange {
  lo: bigint;
  hi: bigint;
}

/**
 * Consecutive rowid ranges of `table` that hold up to `size` rows each, found by walking the
 * real rows: ids may be sparse (1 and 2^62 in one table) and beyond 2^53, so they are
 * BigInts and never stepped through arithmetically.
 */
export function* rowidRanges(db: Db, table: string, size: number, schema = 'main'): Generator<RowidRange> {
  const name = `${quoteIdent(schema)}.${quoteIdent(table)}`;
  const { lo: first, hi: last } = db.prepare(`SELECT min(rowid) AS lo, max(rowid) AS hi FROM ${name}`).safeIntegers(true).get() as {
    lo: bigint | null;
    hi: bigint | null;
  };
  if (first === null || last === null) return;
  const boundary = db.prepare(`SELECT rowid AS hi FROM ${name} WHERE rowid >= ? ORDER BY rowid LIMIT 1 OFFSET ?`).safeIntegers(true);
  let lo = first;
  for (;;) {
    const row = boundary.get(lo, size - 1) as { hi: bigint } | undefined;
    const hi = row ? row.hi : last;
    yield { lo, hi };
    if (hi >= last) return;
    lo = hi + 1n;
  }
}
