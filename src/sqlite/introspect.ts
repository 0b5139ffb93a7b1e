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
