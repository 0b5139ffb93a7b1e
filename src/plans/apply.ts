import { DataError } from '../errors.js';
import { quoteIdent } from '../sqlite/introspect.js';
import type { Db } from '../sqlite/open.js';
import type { TransformPlan } from './unit.js';

export interface ApplyHooks {
  onRows?: (doneRows: number, totalRows: number, table: string) => void;
  /** Called between chunks; may throw to stop (Ctrl-C, test faults). */
  checkpoint?: (point: string) => void;
  /** Called between chunks so a spinner can render; the transaction stays open meanwhile. */
  yieldNow?: () => Promise<void>;
}

const ROWS_PER_CHUNK = 50_000;

/**
 * Run a plan as one transaction: schema, backfill in rowid chunks, guards, finish. The chunks
 * are set-based UPDATEs; splitting them only lets progress render between them. Holding the
 * transaction across those awaits is safe because the connection is private to this call.
 * Any error rolls back and is rethrown.
 */
export async function applyPlan(db: Db, plan: TransformPlan, hooks: ApplyHooks = {}): Promise<{ rowsBackfilled: number }> {
  const totals = plan.backfill.map((b) => bounds(db, b.table));
  const totalRows = totals.reduce((sum, t) => sum + t.count, 0);
  let doneRows = 0;
  db.exec('BEGIN IMMEDIATE');
  try {
    for (const sql of plan.schema) db.exec(sql);
    hooks.checkpoint?.('transform-schema');
    for (const [i, backfill] of plan.backfill.entries()) {
      const { lo, hi } = totals[i] as { lo: number | null; hi: number | null };
      if (lo === null || hi === null) continue;
      const statement = db.prepare(backfill.sql);
      for (let start = lo; start <= hi; start += ROWS_PER_CHUNK) {
        const changes = statement.run({ ...plan.params, lo: start, hi: Math.min(start + ROWS_PER_CHUNK - 1, hi) }).changes;
        doneRows += changes;
        hooks.onRows?.(doneRows, totalRows, backfill.table);
        hooks.checkpoint?.('transform-backfill');
        await hooks.yieldNow?.();
      }
    }
    for (const guard of plan.guards) {
      const ids = (db.prepare(guard.sql).all() as Array<{ id: number | string }>).map((r) => r.id);
      if (ids.length > 0) {
        throw new DataError(guard.code, `${ids.length} ${guard.message} (ids ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ', …' : ''}).`, {
          hint: 'Resolve the conflicting rows in the source, then run again.',
        });
      }
    }
    for (const sql of plan.finish) db.exec(sql);
    hooks.checkpoint?.('transform-before-commit');
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
  return { rowsBackfilled: doneRows };
}

function bounds(db: Db, table: string): { lo: number | null; hi: number | null; count: number } {
  return db.prepare(`SELECT min(rowid) AS lo, max(rowid) AS hi, count(*) AS count FROM ${quoteIdent(table)}`).get() as {
    lo: number | null;
    hi: number | null;
    count: number;
  };
}
