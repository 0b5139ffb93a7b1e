import type { Db } from '../sqlite/open.js';
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

const CREATE_VERSION_TABLE = `CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (version uint64,dirty bool);
CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON ${VERSION_TABLE} (version);`;

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

function tableExists(db: Db, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

/** Whose version table the database has: golang-migrate's has a dirty column, dbmate's does not. */
export function versionTableKind(db: Db): VersionTableKind | undefined {
  const columns = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(VERSION_TABLE) as Array<{ name: string }>;
  if (columns.length === 0) return undefined;
  return columns.some((c) => c.name.toLowerCase() === 'dirty') ? 'golang-migrate' : 'dbmate';
}

/** Create the bookkeeping tables if missing (inside the caller's transaction when there is one). */
export function ensureStateTables(db: Db, choice: VersionTableChoice = DEFAULT_CHOICE): void {
  if (versionTableKind(db) === undefined) db.exec(choice.create === 'dbmate' ? createDbmateTable(VERSION_TABLE) : CREATE_VERSION_TABLE);
  db.exec(CREATE_HISTORY_TABLE);
}

export function readVersion(db: Db): VersionState {
  const kind = versionTableKind(db);
  if (kind === undefined) return { version: 0, dirty: false };
  if (kind === 'dbmate') {
    const dirty = tableExists(db, DBMATE_DIRTY_TABLE) ? (db.prepare(`SELECT version FROM ${DBMATE_DIRTY_TABLE} LIMIT 1`).all() as Array<{ version: unknown }>) : [];
    return dbmateState(db.prepare(`SELECT version FROM ${VERSION_TABLE}`).all() as Array<{ version: unknown }>, dirty);
  }
  const row = db.prepare(`SELECT version, dirty FROM ${VERSION_TABLE} LIMIT 1`).get() as { version: number | bigint; dirty: unknown } | undefined;
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
export function writeVersion(db: Db, state: VersionState, choice: VersionTableChoice = DEFAULT_CHOICE): void {
  db.transaction(() => {
    if (versionTableKind(db) === 'dbmate') {
      for (const s of dbmateWrite(VERSION_TABLE, DBMATE_DIRTY_TABLE, state, choice.texts.get(state.version), () => '?')) db.prepare(s.sql).run(...s.params);
      return;
    }
    db.prepare(`DELETE FROM ${VERSION_TABLE}`).run();
    if (state.version > 0 || state.dirty) {
      db.prepare(`INSERT INTO ${VERSION_TABLE} (version, dirty) VALUES (?, ?)`).run(state.version > 0 ? state.version : -1, state.dirty ? 1 : 0);
    }
  })();
}

export function appendHistory(db: Db, entry: HistoryEntry): void {
  db.prepare(
    `INSERT INTO ${HISTORY_TABLE} (version, name, direction, checksum, applied_at, duration_ms) VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(entry.version, entry.name, entry.direction, entry.checksum, entry.appliedAt, Math.round(entry.durationMs));
}

export function readHistory(db: Db): HistoryEntry[] {
  if (!tableExists(db, HISTORY_TABLE)) return [];
  return (
    db.prepare(`SELECT version, name, direction, checksum, applied_at, duration_ms FROM ${HISTORY_TABLE} ORDER BY id`).all() as Array<{
      version: number;
      name: string;
      direction: Direction | 'force';
      checksum: string | null;
      applied_at: string;
      duration_ms: number;
    }>
  ).map((r) => ({ version: r.version, name: r.name, direction: r.direction, checksum: r.checksum, appliedAt: r.applied_at, durationMs: r.duration_ms }));
}

/** For each version whose latest up/down entry is `up`: that entry (what is applied, and with which checksum). */
export function appliedFromHistory(history: HistoryEntry[]): Map<number, HistoryEntry> {
  const latest = new Map<number, HistoryEntry>();
  for (const entry of history) if (entry.direction !== 'force') latest.set(entry.version, entry);
  return new Map([...latest].filter(([, entry]) => entry.direction === 'up'));
}
