import type { Db } from '../../sqlite/open.js';
import { findIndex, listColumns } from '../../sqlite/introspect.js';
import { IDENTIFIER_INDEX, NEW_COLUMNS, REQUIRED_COLUMNS, TASK_LOG_COLUMNS, TASK_LOG_INDEX, TASK_LOG_TABLE, type NewIndex } from './schema.js';

export type SchemaState = 'pre-v5' | 'partial' | 'v5' | 'unknown';

export interface V5Inspection {
  state: SchemaState;
  /** Required pre-v5 tables/columns that are missing (`table` or `table.column`). */
  missing: string[];
  /** v5 objects that exist in a shape the migration cannot complete (state `unknown`). */
  conflicts: string[];
  /** v5 columns already present, as `table.column`. */
  presentColumns: string[];
  hasTaskLog: boolean;
  presentIndexes: string[];
  /** The CREATE INDEX text of a unique-identifier index that already exists, kept verbatim when it is rebuilt. */
  identifierIndexSql?: string;
  /** Rows whose v5 values still need a backfill (only counted when every v5 object exists). */
  unfilledRows: number;
}

/** Decide how far a database is from v5. Reads the schema and, when everything exists, the data. */
export function inspectV5(db: Db, options: { countUnfilledRows?: boolean } = {}): V5Inspection {
  const tables = new Set(
    (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map((r) => r.name),
  );
  const missing: string[] = [];
  const columnsOf = new Map<string, Set<string>>();
  for (const [table, required] of Object.entries(REQUIRED_COLUMNS)) {
    if (!tables.has(table)) {
      missing.push(table);
      continue;
    }
    const columns = new Set(listColumns(db, table));
    columnsOf.set(table, columns);
    for (const column of required) if (!columns.has(column)) missing.push(`${table}.${column}`);
  }

  const presentColumns = NEW_COLUMNS.filter((c) => columnsOf.get(c.table)?.has(c.name)).map((c) => `${c.table}.${c.name}`);
  const hasTaskLog = tables.has(TASK_LOG_TABLE);
  const conflicts: string[] = [];
  if (hasTaskLog) {
    const columns = new Set(listColumns(db, TASK_LOG_TABLE));
    for (const column of TASK_LOG_COLUMNS) if (!columns.has(column)) conflicts.push(`task_log.${column} is missing`);
  }
  const presentIndexes: string[] = [];
  let identifierIndexSql: string | undefined;
  for (const expected of [TASK_LOG_INDEX, IDENTIFIER_INDEX]) {
    const found = findIndex(db, expected.name);
    if (!found) continue;
    presentIndexes.push(expected.name);
    if (!sameIndex(found, expected)) conflicts.push(`index ${expected.name} exists but is not ${describe(expected)}`);
    if (expected === IDENTIFIER_INDEX) identifierIndexSql = found.sql;
  }

  const base = { missing, conflicts, presentColumns, hasTaskLog, presentIndexes, unfilledRows: 0, ...(identifierIndexSql ? { identifierIndexSql } : {}) };
  if (missing.length > 0 || conflicts.length > 0) return { ...base, state: 'unknown' };
  const objectCount = presentColumns.length + (hasTaskLog ? 1 : 0) + presentIndexes.length;
  if (objectCount === 0) return { ...base, state: 'pre-v5' };
  if (objectCount < NEW_COLUMNS.length + 3) return { ...base, state: 'partial' };
  // Verification skips this count: its own single pass over the rows proves the same and more.
  if (options.countUnfilledRows === false) return { ...base, state: 'v5' };
  const unfilledRows = countUnfilledRows(db);
  return { ...base, unfilledRows, state: unfilledRows === 0 ? 'v5' : 'partial' };
}

function sameIndex(found: { table: string; unique: boolean; partial: boolean; columns: string[] }, expected: NewIndex): boolean {
  return found.table === expected.table && found.unique === expected.unique && !found.partial && found.columns.join(',') === expected.column;
}

function describe(index: NewIndex): string {
  return `${index.unique ? 'a UNIQUE index' : 'an index'} on ${index.table} (${index.column}) without WHERE`;
}

/**
 * Rows a backfill must still fill: a NULL status, or a non-orphaned report without identifier.
 * Completion times are not counted: once the v5 app runs, its pending rows rightly have none.
 */
function countUnfilledRows(db: Db): number {
  const records = db.prepare(`SELECT count(*) AS n FROM health_record WHERE processing_status IS NULL`).get() as { n: number };
  const reports = db
    .prepare(
      `SELECT count(*) AS n FROM report
       WHERE generation_status IS NULL
          OR (unique_identifier IS NULL AND EXISTS (SELECT 1 FROM health_record hr WHERE hr.id = report.health_record_id))`,
    )
    .get() as { n: number };
  return records.n + reports.n;
}
