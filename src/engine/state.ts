import type Database from 'better-sqlite3';
import type { Db } from '../sqlite/db.js';
import type { Direction, HistoryEntry, VersionState } from './types.js';
import { DEFAULT_CHOICE, type VersionTableChoice, type VersionTableKind } from './version-tables/choice.js';
import { createDbmateTable, DBMATE_DIRTY_TABLE, dbmateState, dbmateWrite } from './version-tables/dbmate.js';

// The version table is golang-migrate's, byte for byte (database/sqlite3): one row
// (version, dirty), no row for "nothing applied". A database either tool manages can be
// continued by the other. dbshift's history table sits beside it and golang-migrate ignores it.
// A database dbmate manages keeps dbmate's table (version-tables/dbmate.ts), read and written as such.

export const VERSION_TABLE = 'schema_migrations';
export const HISTORY_TABLE = 'dbshift_history';
export { DBMATE_DIRTY_TABLE };

/**
 * golang-migrate's sqlite3 table. Its driver names the unique index version_unique whatever the
 * table; index names are per database, so another table's index is named after the table.
 */
function createVersionTable(table: string): string {
  const name = quoteName(table);
  return `CREATE TABLE IF NOT EXISTS ${name} (version uint64,dirty bool);
CREATE UNIQUE INDEX IF NOT EXISTS ${table === VERSION_TABLE ? 'version_unique' : quoteName(`${table}_version_unique`)} ON ${name} (version);`;
}

function quoteName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

// One history per version table. Services that keep their own version tables in one file share
// dbshift_history: a row names its version table in version_table. The column is added the
// first time a table other than schema_migrations writes; rows without it (and every row
// written before it existed, when schema_migrations was the only table SQLite could have) are
// schema_migrations'. A table created by `migrate` keeps its old shape: the pipeline proves
// the file unchanged apart from v5.
const KEY = 'version_table';

// No AUTOINCREMENT: rows are never deleted, so rowids only grow anyway, and a sqlite_sequence
// entry would be one more change to a database the pipeline proves unchanged apart from v5.
const CREATE_HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS ${HISTORY_TABLE} (
  id INTEGER PRIMARY KEY,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('up', 'down', 'force')),
  checksum TEXT,
  applied_at TEXT NOT NULL,
  duration_ms INTEGER NOT NULL
);`;

/**
 * Prepared once per connection: every migration reads and writes the bookkeeping several times,
 * and preparing a statement costs a parse (sqlite.org/c3ref/prepare.html). The SQL text is the key.
 */
const prepared = new WeakMap<Db, Map<string, Database.Statement>>();
function statement(db: Db, sql: string): Database.Statement {
  let own = prepared.get(db);
  if (!own) prepared.set(db, (own = new Map()));
  let found = own.get(sql);
  if (!found) own.set(sql, (found = db.prepare(sql)));
  return found;
}

function tableExists(db: Db, name: string): boolean {
  return statement(db, `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

function hasKey(db: Db): boolean {
  return statement(db, `SELECT 1 FROM pragma_table_info(?) WHERE name = ?`).get(HISTORY_TABLE, KEY) !== undefined;
}

/** Whose version table the database has: golang-migrate's has a dirty column, dbmate's does not. */
export function versionTableKind(db: Db, table = VERSION_TABLE): VersionTableKind | undefined {
  const columns = statement(db, `SELECT name FROM pragma_table_info(?)`).all(table) as Array<{ name: string }>;
  if (columns.length === 0) return undefined;
  return columns.some((c) => c.name.toLowerCase() === 'dirty') ? 'golang-migrate' : 'dbmate';
}

/** Create the bookkeeping tables if missing (inside the caller's transaction when there is one). */
export function ensureStateTables(db: Db, table = VERSION_TABLE, choice: VersionTableChoice = DEFAULT_CHOICE): void {
  if (versionTableKind(db, table) === undefined) db.exec(choice.create === 'dbmate' ? createDbmateTable(quoteName(table)) : createVersionTable(table));
  db.exec(CREATE_HISTORY_TABLE);
  if (table !== VERSION_TABLE && !hasKey(db)) db.exec(`ALTER TABLE ${HISTORY_TABLE} ADD COLUMN ${KEY} TEXT`);
}

export function readVersion(db: Db, table = VERSION_TABLE): VersionState {
  const kind = versionTableKind(db, table);
  if (kind === undefined) return { version: 0, dirty: false };
  if (kind === 'dbmate') {
    const dirty = tableExists(db, DBMATE_DIRTY_TABLE) ? (statement(db, `SELECT version FROM ${DBMATE_DIRTY_TABLE} LIMIT 1`).all() as Array<{ version: unknown }>) : [];
    return dbmateState(statement(db, `SELECT version FROM ${quoteName(table)}`).all() as Array<{ version: unknown }>, dirty);
  }
  const row = statement(db, `SELECT version, dirty FROM ${quoteName(table)} LIMIT 1`).get() as { version: number | bigint; dirty: unknown } | undefined;
  if (!row) return { version: 0, dirty: false };
  // golang-migrate writes -1 (NilVersion) with dirty=true when a first down migration fails.
  const version = Math.max(0, Number(row.version));
  return { version, dirty: row.dirty === 1 || row.dirty === true || row.dirty === '1' || row.dirty === 'true' };
}

/**
 * golang-migrate's SetVersion: replace the one row; version 0 and clean means no row. The
 * DELETE and the INSERT commit together (a savepoint when the caller's transaction is open):
 * a kill between them would leave no row, which reads as "nothing applied".
 */
export function writeVersion(db: Db, state: VersionState, table = VERSION_TABLE, choice: VersionTableChoice = DEFAULT_CHOICE): void {
  db.transaction(() => {
    if (versionTableKind(db, table) === 'dbmate') {
      for (const s of dbmateWrite(quoteName(table), DBMATE_DIRTY_TABLE, state, choice.texts.get(state.version), () => '?')) statement(db, s.sql).run(...s.params);
      return;
    }
    statement(db, `DELETE FROM ${quoteName(table)}`).run();
    if (state.version > 0 || state.dirty) {
      statement(db, `INSERT INTO ${quoteName(table)} (version, dirty) VALUES (?, ?)`).run(state.version > 0 ? state.version : -1, state.dirty ? 1 : 0);
    }
  })();
}

export function appendHistory(db: Db, entry: HistoryEntry, table = VERSION_TABLE): void {
  const values = [entry.version, entry.name, entry.direction, entry.checksum, entry.appliedAt, Math.round(entry.durationMs)];
  if (!hasKey(db)) {
    // ensureStateTables added the column for any other table: without it, this is schema_migrations' history.
    statement(db, `INSERT INTO ${HISTORY_TABLE} (version, name, direction, checksum, applied_at, duration_ms) VALUES (?, ?, ?, ?, ?, ?)`).run(...values);
    return;
  }
  statement(db, `INSERT INTO ${HISTORY_TABLE} (${KEY}, version, name, direction, checksum, applied_at, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`).run(table, ...values);
}

/** The history of one version table, oldest first. */
export function readHistory(db: Db, table = VERSION_TABLE): HistoryEntry[] {
  if (!tableExists(db, HISTORY_TABLE)) return [];
  const keyed = hasKey(db);
  if (!keyed && table !== VERSION_TABLE) return [];
  return (
    db
      .prepare(`SELECT version, name, direction, checksum, applied_at, duration_ms FROM ${HISTORY_TABLE}${keyed ? ` WHERE coalesce(${KEY}, '${VERSION_TABLE}') = ?` : ''} ORDER BY id`)
      .all(...(keyed ? [table] : [])) as Array<{
      version: number;
      name: string;
      direction: Direction | 'force';
      checksum: string | null;
      applied_at: string;
      duration_ms: number;
    }>
  ).map((r) => ({ version: r.version, name: r.name, direction: r.direction, checksum: r.checksum, appliedAt: r.applied_at, durationMs: r.duration_ms }));
}

/**
 * For each version the history says is applied: its entry (and with which checksum). A
 * `force` (Alembic's `stamp`) to V declares what is applied, as Alembic's stamp does: every
 * version above V is not, every version at or below V that was reverted is again, with no
 * checksum to compare (its files did not run), until a later up/down says otherwise.
 */
export function appliedFromHistory(history: HistoryEntry[]): Map<number, HistoryEntry> {
  const latest = new Map<number, HistoryEntry>();
  for (const entry of history) {
    if (entry.direction !== 'force') {
      latest.set(entry.version, entry);
      continue;
    }
    for (const [version, last] of latest) {
      if (version > entry.version) latest.delete(version);
      else if (last.direction === 'down') latest.set(version, { ...last, direction: 'up', checksum: null });
    }
  }
  return new Map([...latest].filter(([, entry]) => entry.direction === 'up'));
}

/** The version the last `force`/`stamp` declared (0 without one): nothing at or below it is pending by the history's account. */
export function stampedVersion(history: HistoryEntry[]): number {
  return [...history].reverse().find((entry) => entry.direction === 'force')?.version ?? 0;
}
