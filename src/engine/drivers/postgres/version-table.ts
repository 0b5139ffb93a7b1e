import type pg from 'pg';
import type { HistoryEntry, MigrationDefinition, VersionState } from '../../types.js';
import { DEFAULT_CHOICE, versionTableChoice, type VersionTableChoice, type VersionTableKind } from '../../version-tables/choice.js';
import { createDbmateTable, DBMATE_DIRTY_TABLE, dbmateState, dbmateWrite } from '../../version-tables/dbmate.js';
import { appendHistory, appendHistorySql, ensureHistory, HISTORY_TABLE, readHistory } from './history.js';
import { quoteIdent } from './statements.js';

// The version table and its history, as one run of the PostgreSQL driver keeps them: whose
// table it is (golang-migrate's or dbmate's), created as that tool creates it, read and written
// as that tool does, with dbshift's history beside it. What a migration's transaction does with
// them, and in how many round trips, is the driver's; this file only says what the SQL is.

type VersionRow = { version: string; dirty: boolean } | undefined;

export class PgVersionTable {
  private choice: VersionTableChoice = DEFAULT_CHOICE;
  /** Whose version table this is, once it exists (it never changes kind within a run). */
  private knownKind: VersionTableKind | undefined;
  /** The version and history tables exist: a transaction that ensured them has committed in this session. */
  private committed = false;

  constructor(
    private readonly client: pg.Client,
    readonly schema: string,
    readonly table: string,
  ) {}

  /** schema.table, quoted. */
  get qualified(): string {
    return `${quoteIdent(this.schema)}.${quoteIdent(this.table)}`;
  }

  private get dirtyTable(): string {
    return `${quoteIdent(this.schema)}.${quoteIdent(DBMATE_DIRTY_TABLE)}`;
  }

  /** The tables that are bookkeeping, not the migration's data (the row-loss backstop leaves them out). */
  get bookkeeping(): Array<{ schema: string; name: string }> {
    return [this.table, HISTORY_TABLE, DBMATE_DIRTY_TABLE].map((name) => ({ schema: this.schema, name }));
  }

  /** Which table a new database gets, from the migrations' own format (dbmate's files: dbmate's table). */
  know(migrations: ReadonlyArray<Pick<MigrationDefinition, 'version' | 'versionText' | 'format'>>): void {
    this.choice = versionTableChoice(migrations);
  }

  /** Which of these tables of `schema` exist: the catalog itself (information_schema's views cost a planner run each). */
  private async existing(tables: string[]): Promise<Set<string>> {
    const { rows } = await this.client.query<{ relname: string }>(
      `SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
      [this.schema, tables],
    );
    return new Set(rows.map((r) => r.relname));
  }

  /** Whose version table the database has: golang-migrate's has a dirty column, dbmate's does not. */
  async kind(): Promise<VersionTableKind | undefined> {
    if (this.knownKind) return this.knownKind;
    const { rows } = await this.client.query<{ name: string }>('SELECT column_name AS name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2', [this.schema, this.table]);
    if (rows.length === 0) return undefined;
    return (this.knownKind = rows.some((r) => r.name === 'dirty') ? 'golang-migrate' : 'dbmate');
  }

  /** golang-migrate's table exactly as it creates it, or dbmate's for a dbmate project (an existing one is never altered), and the history beside it. */
  async ensure(): Promise<void> {
    // Once a transaction that ensured them committed, they exist for the rest of the run: no catalog read per migration.
    if (this.committed) return;
    const present = await this.existing([this.table, HISTORY_TABLE]);
    if (!present.has(this.table)) {
      await this.client.query(
        this.choice.create === 'dbmate' ? createDbmateTable(this.qualified) : `CREATE TABLE IF NOT EXISTS ${this.qualified} (version bigint not null primary key, dirty boolean not null)`,
      );
    }
    await ensureHistory(this.client, this.schema);
  }

  /** A transaction that ran ensure() has committed. */
  markCommitted(): void {
    this.committed = true;
  }

  /** The tables exist (a transaction that ensured them committed) and their kind is known: nothing to ask the catalog before a migration's first query. */
  get settled(): boolean {
    return this.committed && this.knownKind !== undefined;
  }

  async read(): Promise<VersionState> {
    const kind = await this.kind();
    if (kind === undefined) return { version: 0, dirty: false };
    if (kind === 'dbmate') {
      const dirty = (await this.existing([DBMATE_DIRTY_TABLE])).has(DBMATE_DIRTY_TABLE) ? (await this.client.query(`SELECT version FROM ${this.dirtyTable} LIMIT 1`)).rows : [];
      return dbmateState((await this.client.query(`SELECT version FROM ${this.qualified}`)).rows, dirty);
    }
    const { rows } = await this.client.query<{ version: string; dirty: boolean }>(this.readSql());
    return PgVersionTable.stateOf(rows[0]);
  }

  /** golang-migrate's version row, as one statement another text can carry (one round trip less). */
  readSql(): string {
    return `SELECT version, dirty FROM ${this.qualified} LIMIT 1`;
  }

  /** golang-migrate's version row as read() reads it. */
  static stateOf(row: VersionRow): VersionState {
    // golang-migrate writes -1 (NilVersion) with dirty=true when a first down migration fails.
    return row ? { version: Math.max(0, Number(row.version)), dirty: row.dirty } : { version: 0, dirty: false };
  }

  history(): Promise<HistoryEntry[]> {
    return readHistory(this.client, this.schema, this.table);
  }

  /**
   * golang-migrate's SetVersion (one row; none for version 0 clean, -1 for 0 dirty), with DELETE
   * where it uses TRUNCATE: TRUNCATE holds ACCESS EXCLUSIVE on the version table until the
   * migration commits, so `dbshift version` would wait for the whole migration; DELETE lets
   * readers see the committed version meanwhile.
   */
  async write(state: VersionState): Promise<void> {
    if ((await this.kind()) === 'dbmate') {
      for (const s of dbmateWrite(this.qualified, this.dirtyTable, state, this.choice.texts.get(state.version), (n) => `$${n}`)) await this.client.query(s.sql, s.params);
      return;
    }
    await this.client.query(this.writeSql(state));
  }

  /** golang-migrate's SetVersion as one text (numbers and a boolean, written as literals): a round trip is what a migration's bookkeeping costs. */
  writeSql(state: VersionState): string {
    const row = state.version > 0 || state.dirty ? `; INSERT INTO ${this.qualified} (version, dirty) VALUES (${Math.trunc(state.version > 0 ? state.version : -1)}, ${state.dirty ? 'true' : 'false'})` : '';
    return `DELETE FROM ${this.qualified}${row}`;
  }

  append(entry: HistoryEntry): Promise<void> {
    return appendHistory(this.client, this.schema, this.table, entry);
  }

  /** The history row as text another statement can carry, its strings quoted by the client. */
  appendSql(entry: HistoryEntry): string {
    return appendHistorySql(this.schema, this.table, entry, (text) => this.client.escapeLiteral(text));
  }

  /** force / stamp: the version (and a history row) in a transaction of their own. */
  async set(state: VersionState, entry?: HistoryEntry): Promise<void> {
    await this.client.query('BEGIN');
    try {
      await this.ensure();
      await this.write(state);
      if (entry) await this.append(entry);
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}
