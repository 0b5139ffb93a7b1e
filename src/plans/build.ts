// Building the migrated file in one pass (issue 13): an empty file gets the baseline's schema,
// the unit's new columns and tables, then every row by INSERT … SELECT (computing the backfill
// in the SELECT), then the indexes, and last the triggers and views, so that no trigger fires
// on the copy. Every page is written once; an in-place ALTER + UPDATE would copy, then rewrite.
// Pure: the statements are derived from a description of the baseline's schema.

import type { BaselineSchema, BaselineTable } from '../sqlite/introspect.js';
import type { Guard } from './unit.js';

/** How the unit rewrites one table: the columns it adds and the values of every column it inserts. */
export interface TableRewrite {
  /** Statements run on the empty table right after its CREATE (ALTER TABLE … ADD COLUMN): SQLite writes the schema text. */
  alter: string[];
  /** Target column list and the SELECT that fills it, over `baseline.<table> AS <alias>`, ranged by `<alias>.rowid BETWEEN :lo AND :hi`. */
  columns: string[];
  select: string;
  /** The baseline row id in `select` (e.g. `r.rowid`): the copy runs in chunks along it. */
  rowid: string;
}

export interface CopyStatement {
  table: string;
  sql: string;
  /** When set, the copy runs in chunks along this baseline row id (progress and Ctrl-C between them); otherwise at once. */
  rowid?: string;
}

export interface BuildPlan {
  /** Header settings that must be in place before the first table is created. */
  header: string[];
  /** CREATE TABLE text as the baseline has it, the unit's ALTERs, then the unit's new tables. */
  tables: string[];
  /** Run after the tables exist, before the copies (the unit's temp helpers). */
  setup: string[];
  copies: CopyStatement[];
  /** Run after the copies (drops the temp helpers, before any index or trigger exists). */
  teardown: string[];
  /** Checked after the copies, before the indexes: a returned row stops the build. */
  guards: Guard[];
  /** The baseline's indexes verbatim, then the unit's new ones (built once over the full data). */
  indexes: string[];
  /** After the data: sqlite_sequence, header values, views and triggers (which therefore never fire). */
  finish: string[];
  /** Triggers carried over, by table: they are created after the data and do not fire. */
  triggers: Array<{ name: string; table: string }>;
  params: Record<string, string | number>;
}

/**
 * Virtual tables are carried over the way VACUUM does it: their sqlite_master rows verbatim
 * (no module needed, no shadow tables re-created), their shadow tables copied as ordinary tables.
 * The executor runs this with writable_schema and bumps the schema cookie.
 */
export const VIRTUAL_TABLE_ROWS = `INSERT INTO main.sqlite_master SELECT * FROM baseline.sqlite_master WHERE type = 'table' AND rootpage = 0`;

export function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export interface UnitBuild {
  rewrites: Record<string, TableRewrite>;
  /** Tables copied first, in this order (a later copy reads what their copy collected). */
  first: string[];
  setup: string[];
  teardown: string[];
  newTables: string[];
  newIndexes: string[];
  guards: Guard[];
  params: Record<string, string | number>;
}

/** The statements that build the migrated file from the baseline schema and the unit's rewrites. */
export function planBuild(baseline: BaselineSchema, unit: UnitBuild): BuildPlan {
  const { header } = baseline;
  const virtual = new Set(baseline.virtualTables);
  const tables: string[] = [];
  const copies: CopyStatement[] = [];
  for (const table of baseline.tables) {
    if (table.name === 'sqlite_sequence' || virtual.has(table.name)) continue;
    tables.push(table.sql);
    const rewrite = unit.rewrites[table.name];
    if (rewrite) {
      tables.push(...rewrite.alter);
      copies.push({
        table: table.name,
        sql: `INSERT INTO main.${quote(table.name)} (${rewrite.columns.join(', ')}) ${rewrite.select}`,
        ...(table.withoutRowid ? {} : { rowid: rewrite.rowid }),
      });
      continue;
    }
    copies.push({ table: table.name, sql: copyVerbatim(table) });
  }
  tables.push(...unit.newTables);
  const rank = (table: string) => (unit.first.includes(table) ? unit.first.indexOf(table) : unit.first.length);
  copies.sort((a, b) => rank(a.table) - rank(b.table));
  const existing = new Set(baseline.objects.filter((o) => o.type === 'index').map((o) => o.name));
  const finish: string[] = [];
  if (baseline.hasSequence) {
    // The copies advanced sqlite_sequence to each table's max(rowid); the baseline's counters
    // may be higher (deleted rows), and their row ids are part of the comparison.
    finish.push('DELETE FROM main.sqlite_sequence', 'INSERT INTO main.sqlite_sequence (rowid, name, seq) SELECT rowid, name, seq FROM baseline.sqlite_sequence');
  }
  if (virtual.size > 0) finish.push(VIRTUAL_TABLE_ROWS);
  finish.push(`PRAGMA main.user_version = ${header.userVersion}`, `PRAGMA main.application_id = ${header.applicationId}`);
  finish.push(...baseline.objects.filter((o) => o.type === 'view').map((o) => o.sql));
  finish.push(...baseline.objects.filter((o) => o.type === 'trigger').map((o) => o.sql));
  return {
    header: [`PRAGMA main.page_size = ${header.pageSize}`, `PRAGMA main.auto_vacuum = ${header.autoVacuum}`, `PRAGMA main.encoding = '${header.encoding}'`],
    tables,
    setup: unit.setup,
    copies,
    teardown: unit.teardown,
    guards: unit.guards,
    indexes: [...baseline.objects.filter((o) => o.type === 'index').map((o) => o.sql), ...unit.newIndexes.filter((sql) => !existing.has(indexName(sql)))],
    finish,
    triggers: baseline.objects.filter((o) => o.type === 'trigger').map((o) => ({ name: o.name, table: o.tableName })),
    params: unit.params,
  };
}

/**
 * `INSERT … SELECT *` between identical tables is SQLite's transfer optimisation: records are
 * copied as they are, row ids included. Where `*` would not carry the row id (no INTEGER
 * PRIMARY KEY) or would name generated columns, the columns and the rowid are listed.
 */
function copyVerbatim(table: BaselineTable): string {
  const name = quote(table.name);
  const plain = table.columns.every((c) => c.hidden === 0);
  if (plain && (table.rowidAlias || table.withoutRowid)) return `INSERT INTO main.${name} SELECT * FROM baseline.${name}`;
  const columns = table.columns.filter((c) => c.hidden === 0).map((c) => quote(c.name));
  const withRowid = table.withoutRowid ? columns : ['rowid', ...columns];
  return `INSERT INTO main.${name} (${withRowid.join(', ')}) SELECT ${withRowid.join(', ')} FROM baseline.${name} ORDER BY 1`;
}

function indexName(sql: string): string {
  return /INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|\S+)/i.exec(sql)?.[1]?.replace(/^"|"$/g, '') ?? sql;
}
