import type { VersionState } from '../types.js';

// dbmate's schema_migrations (pkg/dbmate/sqlite.go, postgres.go): one row per applied version,
// `version varchar(128) primary key`, no dirty column. dbshift reads and writes it as it finds
// it, so that dbmate and dbshift can take turns on one database and agree on what is applied:
// - the version is the highest row; every row is listed (`applied`), since dbmate applies
//   pending files below the highest one too, which dbshift refuses instead of skipping;
// - a row holds the digits as the file writes them ("001"): dbmate compares the text;
// - dbmate has no dirty flag: dbshift's dirty mark for a no-transaction migration goes into a
//   table of its own beside it (dbmate ignores it; dbshift refuses to go on until `force`).

export const DBMATE_DIRTY_TABLE = 'dbshift_dirty';

export interface Statement {
  sql: string;
  params: unknown[];
}

/** dbmate's own DDL (both dialects). */
export function createDbmateTable(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (version varchar(128) primary key)`;
}

/** Rows of dbmate's table and of the dirty mark, as golang-migrate's one (version, dirty) plus every applied version. */
export function dbmateState(rows: ReadonlyArray<{ version: unknown }>, dirtyRows: ReadonlyArray<{ version: unknown }>): VersionState {
  const applied = rows.map((r) => Number(r.version)).filter((v) => Number.isSafeInteger(v) && v > 0).sort((a, b) => a - b);
  const dirty = dirtyRows[0];
  if (dirty !== undefined) return { version: Number(dirty.version), dirty: true, applied };
  return { version: applied.at(-1) ?? 0, dirty: false, applied };
}

/**
 * golang-migrate's SetVersion on dbmate's table: every row above the version goes (a down),
 * the version's own row is added when clean and missing (an up, written as the file writes
 * it), and the dirty mark is set or cleared. `p(n)` spells the n-th parameter of the dialect.
 */
export function dbmateWrite(table: string, dirtyTable: string, state: VersionState, text: string | undefined, p: (n: number) => string): Statement[] {
  const statements: Statement[] = [{ sql: `DELETE FROM ${table} WHERE CAST(version AS bigint) > ${p(1)}`, params: [state.version] }];
  if (!state.dirty && state.version > 0) {
    statements.push({
      sql: `INSERT INTO ${table} (version) SELECT CAST(${p(1)} AS varchar(128)) WHERE NOT EXISTS (SELECT 1 FROM ${table} WHERE CAST(version AS bigint) = ${p(2)})`,
      params: [text ?? String(state.version), state.version],
    });
  }
  statements.push({ sql: `CREATE TABLE IF NOT EXISTS ${dirtyTable} (version bigint NOT NULL)`, params: [] }, { sql: `DELETE FROM ${dirtyTable}`, params: [] });
  if (state.dirty) statements.push({ sql: `INSERT INTO ${dirtyTable} (version) VALUES (${p(1)})`, params: [state.version] });
  return statements;
}
