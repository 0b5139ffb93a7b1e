import type { Db } from './open.js';

export interface TableInfo {
  name: string;
  sql: string;
  withoutRowid: boolean;
  columns: string[];
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** User tables (and sqlite_sequence, whose entries must survive too), in a stable order. */
export function listTables(db: Db, schema = 'main'): TableInfo[] {
  const rows = db
    .prepare(`SELECT name, sql FROM ${schema}.sqlite_master WHERE type = 'table' AND (name NOT LIKE 'sqlite_%' OR name = 'sqlite_sequence') ORDER BY name`)
    .all() as Array<{ name: string; sql: string }>;
  // table_list knows WITHOUT ROWID for sure (`…) WITHOUT ROWID, STRICT` defeats any regex on the SQL).
  const withoutRowid = new Set(
    (db.prepare(`SELECT name FROM pragma_table_list WHERE schema = ? AND wr = 1`).all(schema) as Array<{ name: string }>).map((r) => r.name),
  );
  return rows.map(({ name, sql }) => ({ name, sql, withoutRowid: withoutRowid.has(name), columns: listColumns(db, name, schema) }));
}

export function listColumns(db: Db, table: string, schema = 'main'): string[] {
  return (db.prepare(`SELECT name FROM pragma_table_info(?, ?)`).all(table, schema) as Array<{ name: string }>).map((r) => r.name);
}

export function primaryKeyColumns(db: Db, table: string, schema = 'main'): string[] {
  return (db.prepare(`SELECT name FROM pragma_table_info(?, ?) WHERE pk > 0 ORDER BY pk`).all(table, schema) as Array<{ name: string }>).map(
    (r) => r.name,
  );
}

export interface SchemaObject {
  type: string;
  name: string;
  tableName: string;
  sql: string | null;
}

export function listSchemaObjects(db: Db, schema = 'main'): SchemaObject[] {
  return db
    .prepare(`SELECT type, name, tbl_name AS tableName, sql FROM ${schema}.sqlite_master ORDER BY type, name`)
    .all() as SchemaObject[];
}

export interface IndexInfo {
  name: string;
  table: string;
  unique: boolean;
  /** Has a WHERE clause. */
  partial: boolean;
  columns: string[];
  sql: string;
}

export function findIndex(db: Db, name: string): IndexInfo | undefined {
  const row = db.prepare(`SELECT tbl_name AS tableName, sql FROM sqlite_master WHERE type = 'index' AND name = ?`).get(name) as
    | { tableName: string; sql: string | null }
    | undefined;
  if (!row) return undefined;
  const list = db.prepare(`SELECT "unique" AS isUnique, partial FROM pragma_index_list(?) WHERE name = ?`).get(row.tableName, name) as
    | { isUnique: number; partial: number }
    | undefined;
  const columns = (db.prepare(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`).all(name) as Array<{ name: string }>).map((r) => r.name);
  return { name, table: row.tableName, unique: list?.isUnique === 1, partial: list?.partial === 1, columns, sql: row.sql ?? '' };
}

export function countRows(db: Db, table: string, schema = 'main'): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${schema}.${quoteIdent(table)}`).get() as { n: number }).n;
}

export function userVersion(db: Db, schema = 'main'): number {
  return db.pragma(`${schema}.user_version`, { simple: true }) as number;
}

export function journalMode(db: Db): string {
  return String(db.pragma('journal_mode', { simple: true }));
}

export interface BaselineColumn {
  name: string;
  /** pragma table_xinfo's `hidden`: 0 normal, 1 hidden (virtual tables), 2/3 generated. */
  hidden: number;
}

export interface BaselineTable {
  name: string;
  sql: string;
  withoutRowid: boolean;
  /** Some column is the rowid (INTEGER PRIMARY KEY), so `SELECT *` carries the row ids. */
  rowidAlias: boolean;
  columns: BaselineColumn[];
}

export interface BaselineObject {
  type: 'index' | 'trigger' | 'view';
  name: string;
  tableName: string;
  sql: string;
}

/** What the build needs to know about the baseline, as read by `describeBaseline`. */
export interface BaselineSchema {
  tables: BaselineTable[];
  /** Indexes with SQL text (automatic indexes come with their tables), triggers and views, in sqlite_master order. */
  objects: BaselineObject[];
  /** Virtual tables: their sqlite_master rows are carried over as VACUUM does; their shadow tables are ordinary tables. */
  virtualTables: string[];
  hasSequence: boolean;
  header: { pageSize: number; autoVacuum: number; encoding: string; userVersion: number; applicationId: number };
}

/** The baseline's schema as the one-pass build needs it (see plans/build.ts). */
export function describeBaseline(db: Db, schema = 'main'): BaselineSchema {
  const s = quoteIdent(schema);
  const master = db.prepare(`SELECT type, name, tbl_name AS tableName, sql, rootpage FROM ${s}.sqlite_master ORDER BY rowid`).all() as Array<{
    type: string;
    name: string;
    tableName: string;
    sql: string | null;
    rootpage: number;
  }>;
  const kinds = new Map(
    (db.prepare(`SELECT name, type, wr FROM pragma_table_list WHERE schema = ?`).all(schema) as Array<{ name: string; type: string; wr: number }>).map((r) => [r.name, r]),
  );
  const tables: BaselineTable[] = [];
  const virtualTables: string[] = [];
  for (const row of master) {
    if (row.type !== 'table' || row.sql === null || (row.name.startsWith('sqlite_') && row.name !== 'sqlite_sequence')) continue;
    if (kinds.get(row.name)?.type === 'virtual' || row.rootpage === 0) {
      virtualTables.push(row.name);
      continue;
    }
    const columns = db.prepare(`SELECT name, type, pk, hidden FROM pragma_table_xinfo(?, ?) ORDER BY cid`).all(row.name, schema) as Array<{ name: string; type: string; pk: number; hidden: number }>;
    const pk = columns.filter((c) => c.pk > 0);
    const withoutRowid = kinds.get(row.name)?.wr === 1;
    tables.push({
      name: row.name,
      sql: row.sql,
      withoutRowid,
      rowidAlias: !withoutRowid && pk.length === 1 && pk[0]?.type.toUpperCase() === 'INTEGER',
      columns: columns.map(({ name, hidden }) => ({ name, hidden })),
    });
  }
  const objects: BaselineObject[] = master
    .filter((o) => (o.type === 'index' || o.type === 'trigger' || o.type === 'view') && o.sql !== null)
    .map((o) => ({ type: o.type as BaselineObject['type'], name: o.name, tableName: o.tableName, sql: o.sql as string }));
  const pragma = (name: string) => db.pragma(`${s}.${name}`, { simple: true });
  return {
    tables,
    objects,
    virtualTables,
    hasSequence: master.some((o) => o.type === 'table' && o.name === 'sqlite_sequence'),
    header: {
      pageSize: Number(pragma('page_size')),
      autoVacuum: Number(pragma('auto_vacuum')),
      encoding: String(pragma('encoding')),
      userVersion: Number(pragma('user_version')),
      applicationId: Number(pragma('application_id')),
    },
  };
}
