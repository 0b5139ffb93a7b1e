import type { BaselineSchema, BaselineTable } from '../../sqlite/introspect.js';
import type { Db } from '../../sqlite/open.js';
import { planBuild, quote, type BuildPlan, type TableRewrite } from '../build.js';
import type { Warning } from '../../results.js';
import type { UnitContext } from '../unit.js';
import { UTC_FUNCTION } from './functions.js';
import type { V5Inspection } from './inspect.js';
import { runDateStamp } from './plan.js';
import { CREATE_TASK_LOG, createIndexSql, IDENTIFIER_INDEX, NEW_COLUMNS, TASK_LOG_INDEX, type NewColumn } from './schema.js';
import { WARNING_IDS_LIMIT, WarningTally } from './warnings.js';
import { identifierPartsWellFormed, MALFORMED_IDS } from './row-ids.js';
import type { BlockingRows } from '../unit.js';

// v5 as a one-pass build: health_record and report are copied with their new columns computed
// in the SELECT; everything else is carried over verbatim. The same values as planV5's
// UPDATEs (which the versioned engine still runs in place), and the same warnings, noted as
// the rows go by instead of in a separate scan.

/** SQL name of the function that notes a warning for a row and returns its third argument. */
export const NOTE_FUNCTION = 'dbshift_v5_note';

const DUPLICATE_GUARD = {
  code: 'duplicate-identifiers',
  message: 'report identifiers would be duplicated, so the UNIQUE index cannot be built',
  sql: `SELECT min(id) AS id FROM main.report WHERE unique_identifier IS NOT NULL GROUP BY unique_identifier HAVING count(*) > 1`,
};

// A report's identifier needs its record's user_id, which sits after the record's large
// encrypted values: looked up in health_record itself, every report would read its record's
// overflow pages again (four reports per record). One pass collects id, user_id and timestamp
// into a small temp table first; reports are joined to that.
const RECORD_KEYS = 'dbshift_v5_record_keys';
const RECORD_KEYS_SETUP = [
  `CREATE TEMP TABLE ${RECORD_KEYS} (id INTEGER PRIMARY KEY, user_id, timestamp)`,
  `INSERT INTO temp.${RECORD_KEYS} (id, user_id, timestamp) SELECT id, user_id, timestamp FROM baseline.health_record ORDER BY id`,
];
const RECORD_KEYS_TEARDOWN = [`DROP TABLE temp.${RECORD_KEYS}`];

/** Pure: the build plan that takes a database in `inspection`'s state to v5. */
export function planV5Build(baseline: BaselineSchema, inspection: V5Inspection, context: UnitContext): BuildPlan {
  const present = new Set(inspection.presentColumns);
  const table = (name: string) => baseline.tables.find((t) => t.name === name) as BaselineTable;
  const added = (name: string) => NEW_COLUMNS.filter((c) => c.table === name && !present.has(`${c.table}.${c.name}`));
  const note = (code: string, tableName: string, id: string, value = 'NULL') => `${NOTE_FUNCTION}('${code}', '${tableName}', ${id}, ${value})`;
  // A column this run adds is assigned outright; one that exists keeps any non-NULL value.
  const fill = (tableName: string, alias: string, column: string, value: string) =>
    present.has(`${tableName}.${column}`) ? `coalesce(${alias}.${column}, ${value})` : value;

  const recordTimestamp = `coalesce(${utc('h.timestamp')}, CASE WHEN h.timestamp IS NOT NULL THEN ${note('unparseable-timestamp', 'health_record', 'h.id')} END)`;
  const records = rewrite(table('health_record'), 'h', added('health_record'), {
    processing_status: fill('health_record', 'h', 'processing_status', `'completed'`),
    processing_completed_at: fill('health_record', 'h', 'processing_completed_at', recordTimestamp),
  }, `FROM baseline.health_record AS h`);

  const created = utc('r.created_at');
  const completed = `coalesce(${created}, CASE WHEN r.created_at IS NOT NULL THEN ${note('unparseable-timestamp', 'report', 'r.id')} END)`;
  // user_id comes from the report's health record; an orphaned report finds none and keeps NULL.
  const date = `coalesce(replace(substr(coalesce(${created}, ${note('identifier-date-from-record', 'report', 'r.id', `${UTC_FUNCTION}(hr.timestamp)`)}), 1, 10), '-', ''),
      ${note('identifier-date-from-run', 'report', 'r.id', ':run_date')})`;
  // Ids that would make a malformed identifier are noted (the run refuses them after the build,
  // nothing published) unless preflight already refused them (plan, --strict).
  const identifier = `CASE WHEN hr.id IS NULL THEN ${note('orphaned-report', 'report', 'r.id')}
    WHEN NOT (${identifierPartsWellFormed()}) THEN ${note(MALFORMED_IDS.code, 'report', 'r.id')}
    ELSE hr.user_id || '-' || r.health_record_id || '-' || r.report_template_id || '-' || ${date} || '-' || r.id END`;
  const reports = rewrite(table('report'), 'r', added('report'), {
    generation_status: fill('report', 'r', 'generation_status', `'completed'`),
    generation_completed_at: fill('report', 'r', 'generation_completed_at', completed),
    unique_identifier: fill('report', 'r', 'unique_identifier', identifier),
  }, `FROM baseline.report AS r LEFT JOIN temp.${RECORD_KEYS} AS hr ON hr.id = r.health_record_id`);

  const newTables = inspection.hasTaskLog ? [] : [CREATE_TASK_LOG];
  return planBuild(baseline, {
    rewrites: { health_record: records, report: reports },
    first: [],
    setup: RECORD_KEYS_SETUP,
    teardown: RECORD_KEYS_TEARDOWN,
    newTables,
    newIndexes: [createIndexSql(TASK_LOG_INDEX), createIndexSql(IDENTIFIER_INDEX)],
    guards: [DUPLICATE_GUARD],
    params: { run_date: runDateStamp(context.runDate) },
  });
}

// The canonical form, `YYYY-MM-DD HH:MM:SS.ffffff`, which most stored values already have.
const CANONICAL_GLOB = '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-5][0-9]:[0-5][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]';

/**
 * normalizeTimestamp(value) in SQL: a text value already in the canonical form, with a real
 * date (SQLite's date() gives it back unchanged), year 0001 or later and hour 00–23, is its own
 * result; anything else goes to the JavaScript function. Calling into JavaScript for every row
 * cost about a tenth of the build (issue 13).
 */
export function utc(value: string): string {
  return `CASE WHEN typeof(${value}) = 'text' AND ${value} GLOB '${CANONICAL_GLOB}' AND substr(${value}, 12, 2) < '24' AND substr(${value}, 1, 4) <> '0000'
    AND date(substr(${value}, 1, 10)) = substr(${value}, 1, 10) THEN ${value} ELSE ${UTC_FUNCTION}(${value}) END`;
}

/**
 * The table's own columns (and its rowid where no column is the rowid) taken as they are,
 * except those `values` computes; then the columns this run adds that get a value.
 */
function rewrite(table: BaselineTable, alias: string, added: NewColumn[], values: Record<string, string>, from: string): TableRewrite {
  const own = table.columns.filter((c) => c.hidden === 0).map((c) => c.name);
  const keepRowid = !table.rowidAlias && !table.withoutRowid;
  const columns = [...(keepRowid ? ['rowid'] : []), ...own, ...added.filter((c) => c.name in values).map((c) => c.name)];
  const select = columns.map((c) => values[c] ?? `${alias}.${c === 'rowid' ? 'rowid' : quote(c)}`);
  return {
    alter: added.map((c) => `ALTER TABLE ${c.table} ADD COLUMN ${c.name} ${c.definition}`),
    columns: columns.map((c) => (c === 'rowid' ? 'rowid' : quote(c))),
    select: `SELECT ${select.join(',\n  ')}\n${from}`,
    rowid: `${alias}.rowid`,
  };
}

/**
 * Register the note function on the build's connection. It is called only on the anomalous
 * rows (the SQL reaches it through coalesce/CASE), so the tally costs nothing on clean data.
 */
export function noteV5Warnings(db: Db): { warnings(): Warning[]; blocking(): BlockingRows[] } {
  const tally = new WarningTally();
  const malformed: BlockingRows = { ...MALFORMED_IDS, count: 0, ids: [] };
  db.function(NOTE_FUNCTION, { varargs: false }, (code: unknown, table: unknown, id: unknown, value: unknown) => {
    // The date notes fire only when they decide the date: from the record if it has one, else from the run.
    if (code === 'identifier-date-from-record' && value === null) return null;
    if (code === MALFORMED_IDS.code) {
      malformed.count++;
      if (malformed.ids.length < WARNING_IDS_LIMIT) malformed.ids.push(typeof id === 'bigint' ? id.toString() : (id as number));
      return null;
    }
    tally.add(String(code), String(table), typeof id === 'bigint' ? id.toString() : (id as number));
    return value;
  });
  return { warnings: () => tally.list(), blocking: () => (malformed.count > 0 ? [malformed] : []) };
}
