import { listColumns, listSchemaObjects, listTables, primaryKeyColumns, quoteIdent, userVersion } from './introspect.js';
import type { Db } from './open.js';
import { rowidRanges } from './chunks.js';
import { yieldToEventLoop } from '../yield.js';

export interface TableComparison {
  table: string;
  before: number;
  after: number;
  /** The caller's counts over the table's rows (`RowCounts`), summed over the chunks. */
  counted?: Record<string, number>;
  /** Rows of the baseline that are missing or differ in any pre-existing column. */
  differing: number;
  sampleIds: Array<number | string>;
}

export interface BaselineComparison {
  tables: TableComparison[];
  /** Schema objects (indexes, triggers, views, table definitions, user_version) that changed. */
  schemaProblems: string[];
}

export type RowProgress = (doneRows: number, totalRows: number) => Promise<void> | void;

/** Counts to take on the comparison's pass over a table: `expression AS name` over the migrated rows, aliased `m`. */
export type RowCounts = Record<string, { join: string; aggregates: string[] }>;

const ROWS_PER_CHUNK = 100_000;
const SAMPLE_IDS = 20;

/**
 * Prove that every row and every pre-existing column of `baseline` (an attached schema, e.g.
 * the pristine backup) is byte-identical in `main`: compared in full, in SQL, a chunk of
 * rowids at a time. Values must have the same storage class too (1 and 1.0 compare equal in
 * SQL), and text is compared with BINARY whatever the column's collation says.
 * `fillable` lists `table.column`s that may go from NULL to a value (a partial migration's).
 */
export async function compareWithBaseline(db: Db, baseline: string, fillable: ReadonlySet<string>, onProgress?: RowProgress, rowCounts: RowCounts = {}): Promise<BaselineComparison> {
  const tables = listTables(db, baseline);
  const counts = tables.map((t) => ({
    table: t.name,
    before: count(db, baseline, t.name),
    after: tableExists(db, t.name) ? count(db, 'main', t.name) : 0,
  }));
  const totalRows = counts.reduce((sum, c) => sum + c.before, 0);
  let doneRows = 0;
  const results: TableComparison[] = [];
  const schemaProblems: string[] = [];

  for (const [i, table] of tables.entries()) {
    const { before, after } = counts[i] as { before: number; after: number };
    const result: TableComparison = { table: table.name, before, after, differing: 0, sampleIds: [] };
    results.push(result);
    if (!tableExists(db, table.name)) {
      schemaProblems.push(`table ${table.name} is missing`);
      result.differing = before;
      continue;
    }
    const mainColumns = new Set(listColumns(db, table.name));
    const lost = table.columns.filter((c) => !mainColumns.has(c));
    if (lost.length > 0) {
      schemaProblems.push(`table ${table.name} lost columns ${lost.join(', ')}`);
      result.differing = before;
      continue;
    }
    const key = table.withoutRowid ? primaryKeyColumns(db, table.name, baseline) : ['rowid'];
    const differs = table.columns.map((c) => {
      const b = `b.${quoteIdent(c)}`;
      const m = `m.${quoteIdent(c)}`;
      const changed = `(${b} IS NOT ${m} COLLATE BINARY OR typeof(${b}) <> typeof(${m}))`;
      return fillable.has(`${table.name}.${c}`) ? `(${b} IS NOT NULL AND ${changed})` : changed;
    });
    const join = key.map((k) => `m.${quoteIdent(k)} IS b.${quoteIdent(k)}`).join(' AND ');
    const missing = `m.${quoteIdent(key[0] as string)} IS NULL`;
    const idExpr = key.length === 1 ? `b.${quoteIdent(key[0] as string)}` : key.map((k) => `b.${quoteIdent(k)}`).join(` || ',' || `);
    const from = `${quoteIdent(baseline)}.${quoteIdent(table.name)} AS b LEFT JOIN main.${quoteIdent(table.name)} AS m ON ${join}`;
    const where = `${missing}${differs.length ? ' OR ' + differs.join(' OR ') : ''}`;

    if (table.withoutRowid) {
      // No rowid to range over: one statement for the whole table.
      collect(db.prepare(`SELECT ${idExpr} AS id FROM ${from} WHERE ${where}`), {}, result);
      doneRows += before;
      await onProgress?.(doneRows, totalRows);
      continue;
    }
    const statement = db.prepare(`SELECT b.rowid AS id FROM ${from} WHERE (b.rowid BETWEEN :lo AND :hi) AND (${where})`);
    // With counts to take, one aggregate query per chunk reads the rows once for both; the ids
    // of differing rows are then looked up only in a chunk that has any.
    const extra = rowCounts[table.name];
    const counting = extra
      ? db.prepare(`SELECT count(*) FILTER (WHERE ${where}) AS dbshift_differing, ${extra.aggregates.join(', ')} FROM ${from} ${extra.join} WHERE b.rowid BETWEEN :lo AND :hi`)
      : undefined;
    if (extra) result.counted = {};
    let compared = 0;
    for (const range of rowidRanges(db, table.name, ROWS_PER_CHUNK, baseline)) {
      if (counting && result.counted) {
        const { dbshift_differing: differing, ...counts } = counting.get(range) as Record<string, number>;
        for (const [name, n] of Object.entries(counts)) result.counted[name] = (result.counted[name] ?? 0) + n;
        if (differing) collect(statement, range, result);
      } else {
        collect(statement, range, result);
      }
      compared = Math.min(compared + ROWS_PER_CHUNK, before);
      await onProgress?.(doneRows + compared, totalRows);
      await yieldToEventLoop();
    }
    doneRows += before;
  }
  schemaProblems.push(...compareSchemaObjects(db, baseline));
  if (userVersion(db, baseline) !== userVersion(db)) {
    schemaProblems.push(`user_version changed from ${userVersion(db, baseline)} to ${userVersion(db)}`);
  }
  return { tables: results, schemaProblems };
}

function collect(statement: ReturnType<Db['prepare']>, params: object, result: TableComparison): void {
  for (const row of statement.iterate(params) as Iterable<{ id: number | string }>) {
    result.differing++;
    if (result.sampleIds.length < SAMPLE_IDS) result.sampleIds.push(row.id);
  }
}

function count(db: Db, schema: string, table: string): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${quoteIdent(schema)}.${quoteIdent(table)}`).get() as { n: number }).n;
}

function tableExists(db: Db, table: string): boolean {
  return db.prepare(`SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?`).get(table) !== undefined;
}

/**
 * Every index, trigger and view of the baseline must still exist with the same SQL. A table's
 * SQL may differ only the way ALTER TABLE ADD COLUMN changes it: the new columns' definitions
 * inserted, as ", name …", after the last column definition. Any other change (a type, a
 * constraint, a default, a collation) is a problem. Missing tables are reported by the row comparison.
 */
function compareSchemaObjects(db: Db, baseline: string): string[] {
  const after = new Map(listSchemaObjects(db).map((o) => [`${o.type} ${o.name}`, o]));
  const problems: string[] = [];
  for (const object of listSchemaObjects(db, baseline)) {
    const now = after.get(`${object.type} ${object.name}`);
    if (!now) {
      if (object.type !== 'table') problems.push(`${object.type} ${object.name} is missing`);
      continue;
    }
    if (now.sql === object.sql) continue;
    if (object.type === 'table') {
      const old = new Set(listColumns(db, object.name, baseline));
      const added = listColumns(db, object.name).filter((c) => !old.has(c));
      if (onlyColumnsAdded(object.sql ?? '', now.sql ?? '', added)) continue;
    }
    problems.push(`${object.type} ${object.name} changed its definition`);
  }
  return problems;
}

/** True when `after` is `before` with ", <first added column> …" inserted at one place and nothing else changed. */
export function onlyColumnsAdded(before: string, after: string, added: string[]): boolean {
  const first = added[0];
  if (first === undefined || after.length <= before.length) return false;
  let prefix = 0;
  while (prefix < before.length && before[prefix] === after[prefix]) prefix++;
  let suffix = 0;
  while (suffix < before.length && before[before.length - 1 - suffix] === after[after.length - 1 - suffix]) suffix++;
  const name = new RegExp(`^,\\s*["'\`\\[]?${first.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["'\`\\]]?(?![\\w$])`, 'i');
  // The insertion point is ambiguous where the text around it repeats; try every candidate.
  for (let at = Math.max(0, before.length - suffix); at <= prefix; at++) {
    const inserted = after.slice(at, after.length - (before.length - at));
    if (after.startsWith(before.slice(0, at)) && after.endsWith(before.slice(at)) && name.test(inserted)) return true;
  }
  return false;
}
