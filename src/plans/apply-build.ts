import { DataError } from '../errors.js';
import type { Db } from '../sqlite/open.js';
import { quote, VIRTUAL_TABLE_ROWS, type BuildPlan, type CopyStatement } from './build.js';

export interface BuildHooks {
  /** Rows to copy per table (from the preflight's counts), for progress only. */
  totalRows?: number;
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
 * Build the migrated database into `db`, a new, empty file, from `baseline` (attached while the
 * build runs, never written). One transaction; the caller discards the file on any error.
 */
export async function applyBuild(db: Db, baseline: string, plan: BuildPlan, hooks: BuildHooks = {}): Promise<{ rowsCopied: number }> {
  // Page size, auto_vacuum and text encoding only take effect before the first table exists.
  for (const sql of plan.header) db.exec(sql);
  db.prepare('ATTACH DATABASE ? AS baseline').run(baseline);
  // Read once, in order: an attached file would otherwise get the default 16 MiB cache (peak RSS).
  db.pragma('baseline.cache_size = -2000');
  try {
    // Deferred, not IMMEDIATE: BEGIN IMMEDIATE takes a write lock on every attached database,
    // and the baseline may be the source itself, held by this process's read transaction:
    // the commit then cannot finish (SQLITE_BUSY). Only main is written; it is private.
    db.exec('BEGIN');
    for (const sql of plan.tables) db.exec(sql);
    hooks.checkpoint?.('transform-schema');
    for (const sql of plan.setup) db.exec(sql);
    let done = 0;
    for (const copy of plan.copies) done = await runCopy(db, copy, plan.params, done, hooks);
    for (const sql of plan.teardown) db.exec(sql);
    buildIndexes(db, plan);
    hooks.checkpoint?.('transform-indexes');
    for (const sql of plan.finish) {
      if (sql === VIRTUAL_TABLE_ROWS) writeSchemaRows(db, sql);
      else db.exec(sql);
    }
    hooks.beforeCommit?.(db);
    hooks.checkpoint?.('transform-before-commit');
    db.exec('COMMIT');
    return { rowsCopied: done };
  } finally {
    if (db.inTransaction) db.exec('ROLLBACK');
    db.exec('DETACH DATABASE baseline');
  }
}

/**
 * One INSERT … SELECT per chunk of rows, in row-id order, so the new table's pages are
 * appended; the next chunk starts after the last row id copied (no walk to find the ranges).
 */
async function runCopy(db: Db, copy: CopyStatement, params: Record<string, string | number>, done: number, hooks: BuildHooks): Promise<number> {
  const only = (sql: string) => {
    // Bind only the parameters the statement uses: better-sqlite3 refuses unknown names.
    const used = Object.fromEntries(Object.entries(params).filter(([k]) => sql.includes(`:${k}`)));
    return used;
  };
  if (!copy.rowid) {
    const statement = db.prepare(copy.sql);
    done += statement.run(only(copy.sql)).changes;
    hooks.onRows?.(done, hooks.totalRows ?? done, copy.table);
    return done;
  }
  const first = db.prepare(`${copy.sql}\nORDER BY ${copy.rowid} LIMIT ${ROWS_PER_CHUNK}`);
  const nextSql = `${copy.sql}\nWHERE ${copy.rowid} > :after ORDER BY ${copy.rowid} LIMIT ${ROWS_PER_CHUNK}`;
  const next = db.prepare(nextSql);
  const last = db.prepare(`SELECT max(rowid) AS id FROM main.${quote(copy.table)}`).safeIntegers(true);
  let changes = first.run(only(copy.sql)).changes;
  for (;;) {
    done += changes;
    hooks.onRows?.(done, Math.max(hooks.totalRows ?? 0, done), copy.table);
    hooks.checkpoint?.('transform-backfill');
    await hooks.yieldNow?.();
    if (changes < ROWS_PER_CHUNK) return done;
    const after = (last.get() as { id: bigint }).id;
    changes = next.run({ ...only(nextSql), after }).changes;
  }
}

/** Indexes last, each built once over all rows. A failing UNIQUE index is explained by the guards, with row ids. */
function buildIndexes(db: Db, plan: BuildPlan): void {
  for (const sql of plan.indexes) {
    try {
      db.exec(sql);
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw error;
      for (const guard of plan.guards) {
        const ids = (db.prepare(guard.sql).all() as Array<{ id: number | string }>).map((r) => r.id);
        if (ids.length > 0) {
          throw new DataError(guard.code, `${ids.length} ${guard.message} (ids ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ', …' : ''}).`, {
            hint: 'Resolve the conflicting rows in the source, then run again.',
          });
        }
      }
      throw error;
    }
  }
}

/** As VACUUM does for virtual tables: their sqlite_master rows verbatim, then a new schema cookie so they load. */
function writeSchemaRows(db: Db, sql: string): void {
  db.unsafeMode(true);
  try {
    db.pragma('writable_schema = ON');
    db.exec(sql);
    db.pragma('writable_schema = OFF');
    const cookie = Number(db.pragma('main.schema_version', { simple: true }));
    db.pragma(`main.schema_version = ${cookie + 1}`);
  } finally {
    db.unsafeMode(false);
  }
}
