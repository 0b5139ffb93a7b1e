import { listColumns, listSchemaObjects, listTables, primaryKeyColumns, quoteIdent, userVersion, type TableInfo } from './introspect.js';
import type { Db } from './open.js';
import { rowidRanges, type RowidRange } from './chunks.js';
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

// Small enough that two threads share a large table evenly (and Ctrl-C is seen often).
const ROWS_PER_JOB = 10_000;
const SAMPLE_IDS = 20;

/** The statements that compare one table: ids of differing rows, and (with counts) one aggregate row. */
export interface TableStatements {
  /** `SELECT … AS id` of the differing rows, with `:lo`/`:hi` unless the table has no rowid. */
  differing: string;
  /** `count(*) FILTER (WHERE <differs>) AS dbshift_differing, <aggregates>` over the same rows. */
  counting?: string;
}

/** One unit of the comparison's work: the rows of table `table` in one rowid range, or all of them. */
export interface ComparisonJob {
  table: number;
  range?: RowidRange;
  rows: number;
}

export interface JobResult {
  differing: number;
  sampleIds: Array<number | string>;
  counted?: Record<string, number>;
}

/** What another thread needs to take jobs off the same queue, on its own connection. */
export interface SharedComparison {
  statements: TableStatements[];
  jobs: ComparisonJob[];
  /** An Int32Array's buffer: the index of the next job nobody has taken yet. */
  next: SharedArrayBuffer;
}

/**
 * Another thread that takes jobs from the same queue, on its own connection to the same files
 * (a worker that has finished its integrity_check). Resolves once it takes no more; `onResult`
 * sees every job it ran before that.
 */
export type ComparisonHelper = (work: SharedComparison, onResult: (index: number, result: JobResult) => void) => Promise<void>;

/**
 * Prove that every row and every pre-existing column of `baseline` (an attached schema, e.g.
 * the pristine backup) is byte-identical in `main`: compared in full, in SQL, a range of
 * rowids at a time. Values must have the same storage class too (1 and 1.0 compare equal in
 * SQL), and text is compared with BINARY whatever the column's collation says.
 * `fillable` lists `table.column`s that may go from NULL to a value (a partial migration's).
 * With a `helper`, two threads take the ranges from one queue; the result is the same.
 */
export async function compareWithBaseline(
  db: Db,
  baseline: string,
  fillable: ReadonlySet<string>,
  onProgress?: RowProgress,
  rowCounts: RowCounts = {},
  helper?: ComparisonHelper,
): Promise<BaselineComparison> {
  const tables = listTables(db, baseline);
  const results: TableComparison[] = [];
  const schemaProblems: string[] = [];
  const statements: TableStatements[] = [];
  /** For each entry of `statements`, its table's entry in `results`. */
  const resultOf: TableComparison[] = [];
  const jobs: ComparisonJob[] = [];

  for (const table of tables) {
    const before = count(db, baseline, table.name);
    const after = tableExists(db, table.name) ? count(db, 'main', table.name) : 0;
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
    const sql = tableStatements(db, baseline, table, fillable, rowCounts[table.name]);
    if (sql.counting) result.counted = {};
    const index = statements.push(sql) - 1;
    resultOf.push(result);
    if (table.withoutRowid) {
      // No rowid to range over: one job for the whole table.
      jobs.push({ table: index, rows: before });
      continue;
    }
    let left = before;
    for (const range of rowidRanges(db, table.name, ROWS_PER_JOB, baseline)) {
      jobs.push({ table: index, range, rows: Math.min(left, ROWS_PER_JOB) });
      left -= ROWS_PER_JOB;
    }
  }

  const totalRows = results.reduce((sum, t) => sum + t.before, 0);
  const done: Array<JobResult | undefined> = new Array(jobs.length);
  let doneRows = 0;
  const next = new SharedArrayBuffer(4);
  const queue = new Int32Array(next);
  const helped = helper?.({ statements, jobs, next }, (i, result) => {
    done[i] = result;
    doneRows += (jobs[i] as ComparisonJob).rows;
  });
  // Awaited once this thread runs out of jobs; a failure before that must not go unhandled.
  helped?.catch(() => {});
  const runner = comparisonRunner(db);
  for (let i = Atomics.add(queue, 0, 1); i < jobs.length; i = Atomics.add(queue, 0, 1)) {
    const job = jobs[i] as ComparisonJob;
    done[i] = runner(statements[job.table] as TableStatements, job.range);
    doneRows += job.rows;
    await onProgress?.(doneRows, totalRows);
    await yieldToEventLoop();
  }
  await helped;
  await onProgress?.(doneRows, totalRows);

  // Merged in job order, so the sample ids are the same whichever thread found them.
  for (const [i, job] of jobs.entries()) {
    const part = done[i];
    if (!part) throw new Error(`comparison job ${i} of ${jobs.length} never ran`);
    const result = resultOf[job.table] as TableComparison;
    result.differing += part.differing;
    for (const id of part.sampleIds) if (result.sampleIds.length < SAMPLE_IDS) result.sampleIds.push(id);
    if (part.counted && result.counted) for (const [name, n] of Object.entries(part.counted)) result.counted[name] = (result.counted[name] ?? 0) + n;
  }
  schemaProblems.push(...compareSchemaObjects(db, baseline));
  if (userVersion(db, baseline) !== userVersion(db)) {
    schemaProblems.push(`user_version changed from ${userVersion(db, baseline)} to ${userVersion(db)}`);
  }
  return { tables: results, schemaProblems };
}

function tableStatements(db: Db, baseline: string, table: TableInfo, fillable: ReadonlySet<string>, extra?: RowCounts[string]): TableStatements {
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
  if (table.withoutRowid) return { differing: `SELECT ${idExpr} AS id FROM ${from} WHERE ${where}` };
  // With counts to take, one aggregate query per range reads the rows once for both; the ids
  // of differing rows are then looked up only in a range that has any.
  return {
    differing: `SELECT b.rowid AS id FROM ${from} WHERE (b.rowid BETWEEN :lo AND :hi) AND (${where})`,
    ...(extra
      ? { counting: `SELECT count(*) FILTER (WHERE ${where}) AS dbshift_differing, ${extra.aggregates.join(', ')} FROM ${from} ${extra.join} WHERE b.rowid BETWEEN :lo AND :hi` }
      : {}),
  };
}

/** Runs comparison jobs on `db` (which has the baseline attached under the name the statements use). */
export function comparisonRunner(db: Db): (sql: TableStatements, range?: RowidRange) => JobResult {
  const prepared = new Map<string, ReturnType<Db['prepare']>>();
  const statement = (sql: string) => prepared.get(sql) ?? prepared.set(sql, db.prepare(sql)).get(sql)!;
  return (sql, range) => {
    const params = range ?? {};
    const result: JobResult = { differing: 0, sampleIds: [] };
    if (sql.counting) {
      const { dbshift_differing: differing, ...counts } = statement(sql.counting).get(params) as Record<string, number>;
      result.counted = counts;
      if (!differing) return result;
    }
    for (const row of statement(sql.differing).iterate(params) as Iterable<{ id: number | string }>) {
      result.differing++;
      if (result.sampleIds.length < SAMPLE_IDS) result.sampleIds.push(row.id);
    }
    return result;
  };
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
