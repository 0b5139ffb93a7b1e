import { DataError } from '../errors.js';
import { rowidRanges } from '../sqlite/chunks.js';
import { countRows } from '../sqlite/introspect.js';
import type { Db } from '../sqlite/open.js';
import type { TransformPlan } from './unit.js';

export interface ApplyHooks {
  onRows?: (doneRows: number, totalRows: number, table: string) => void;
  /** Called between chunks; may throw to stop (Ctrl-C, test faults). */
  checkpoint?: (point: string) => void;
  /** Called between chunks so a spinner can render; the transaction stays open meanwhile. */
  yieldNow?: () => Promise<void>;
  /** Last writes of the same transaction (the version bookkeeping), after the plan succeeded. */
  beforeCommit?: (db: Db) => void;
}

const ROWS_PER_CHUNK = 50_000;

/**
 * Run a plan as one transaction: schema, backfill in rowid chunks, guards, finish. The chunks
 * are set-based UPDATEs; splitting them only lets progress render between them. Holding the
 * transaction across those awaits is safe because the connection is private to this call.
 * Any error rolls back and is rethrown.
 */
export async function applyPlan(db: Db, plan: TransformPlan, hooks: ApplyHooks = {}): Promise<{ rowsBackfilled: number }> {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = await applyPlanInTransaction(db, plan, hooks);
    hooks.beforeCommit?.(db);
    hooks.checkpoint?.('transform-before-commit');
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** The plan's statements inside a transaction the caller owns (the versioned engine's). */
export async function applyPlanInTransaction(db: Db, plan: TransformPlan, hooks: ApplyHooks = {}): Promise<{ rowsBackfilled: number }> {
  const totalRows = plan.backfill.reduce((sum, b) => sum + countRows(db, b.table), 0);
  let doneRows = 0;
  for (const sql of plan.schema) db.exec(sql);
  hooks.checkpoint?.('transform-schema');
  for (const backfill of plan.backfill) {
    const statement = db.prepare(backfill.sql);
    for (const { lo, hi } of rowidRanges(db, backfill.table, ROWS_PER_CHUNK)) {
      const changes = statement.run({ ...plan.params, lo, hi }).changes;
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
  return { rowsBackfilled: doneRows };
}
