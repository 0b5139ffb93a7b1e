import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CannotCreateError, DataError, InternalError } from '../../../errors.js';
import { createEmptyExclusive, ensureDirectory, TEMP_MARKER } from '../../../files/create.js';
import { removeLeftovers } from '../../../files/leftovers.js';
import { acquireInstanceLockWaiting, type InstanceLock } from '../../../files/lock.js';
import { openWritable, type Db } from '../../../sqlite/open.js';
import { EscapedTransaction, type BackupRef, type Driver, type DriverSession, type LockOptions, type RowChanges } from '../../driver.js';
import { guardProcessExit } from '../../exit-guard.js';
import { lintMigrations, type LintFinding } from '../../lint.js';
import { backupDatabase, missingDatabase, partialPurpose, realPath, withReadonlyDatabase, type SqliteConfig } from './database.js';
import { appendHistory, ensureStateTables, readHistory, readVersion, VERSION_TABLE, writeVersion } from '../../state.js';
import type { HistoryEntry, MigrationContext, MigrationSet, VersionState } from '../../types.js';
import { DEFAULT_CHOICE, versionTableChoice, type VersionTableChoice } from '../../version-tables/choice.js';
import { openChecked, revocableContext, stillBaseline } from './connection.js';
import { SqliteRowWatch } from './row-changes.js';

// SQLite behind the engine's driver boundary: golang-migrate's sqlite3 version table (state.ts),
// the instance lock file beside the database's real file (the same `.dbshift.lock` that
// `dbshift migrate` takes), a backup through the online backup API, and for every migration a
// connection in a checked state (connection.ts: new, or the last one's when provably unchanged), in BEGIN IMMEDIATE: SQLite's write lock
// is held from the version check to COMMIT, so no other writer can move the version between.

export interface SqliteDriverOptions {
  /** The command that holds the lock, named to another run that finds it busy. */
  command: string;
  /** Create the database file under the lock when it is missing (`up --create`, an app starting on a new database). */
  create?: boolean;
  /** Read a missing database as empty (version 0, no history) instead of refusing it: `validate` checks files before any database exists. */
  missingIsEmpty?: boolean;
  now?: () => Date;
}

interface Held {
  lock: InstanceLock;
  /** The database's real file: every path that reaches it takes the same lock. */
  file: string;
  /** Reads the state and takes the backup; every migration gets its own connection. */
  db: Db;
  exitGuard: { release(): void };
  /** This run created the file: it holds nothing a backup could keep. */
  created: boolean;
}

/** The live schema's CREATE statements, tables first (indexes, triggers and views need them); SQLite's own and dbshift's bookkeeping left out. */
function liveSchema(db: Db): string[] {
  return db
    .prepare(`SELECT sql FROM main.sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid`)
    .pluck()
    .all() as string[];
}

const sameState = (a: VersionState, b: VersionState) => a.version === b.version && a.dirty === b.dirty;

/** Roll back whatever is open; returns why that failed, if it did. */
function rollBack(db: Db): string | undefined {
  try {
    if (db.inTransaction) db.exec('ROLLBACK');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Mark the database dirty at `version` in a transaction of its own; returns why that failed, if it did. */
function markDirty(db: Db, version: number, table: string, choice: VersionTableChoice): string | undefined {
  try {
    db.transaction(() => {
      ensureStateTables(db, table, choice);
      writeVersion(db, { version, dirty: true }, table, choice);
    })();
    return undefined;
  } catch (error) {
    return `marking it dirty at version ${version} failed too (${error instanceof Error ? error.message : String(error)}): run \`dbshift force ${version}\` after checking it by hand`;
  }
}

/** One migration's connection: its context for the migration's code, the bookkeeping, the checks. */
class SqliteSession implements DriverSession<MigrationContext> {
  readonly ctx: MigrationContext;
  readonly revokeContext: () => void;
  /** The migration may have changed the connection (a pragma, ATTACH, a temp object, its own code): not handed on. */
  readonly changedConnection: () => boolean;
  /** The state this transaction last wrote: while it is visible, the transaction is still dbshift's. */
  private expected: VersionState | undefined;
  /** The dirty mark this transaction wrote, if it did: the version to leave dirty should its work escape. */
  private dirtyAt: number | undefined;
  /** The row-loss backstop and the foreign-key check, over what the migration writes (row-changes.ts). */
  private watch: SqliteRowWatch | undefined;

  constructor(
    private readonly db: Db,
    private readonly label: string,
    private readonly inTransaction: boolean,
    private readonly table: string,
    private readonly choice: VersionTableChoice,
  ) {
    ({ ctx: this.ctx, revoke: this.revokeContext, changedConnection: this.changedConnection } = revocableContext(db, label, () => this.watch));
  }

  async readVersion(): Promise<VersionState> {
    return readVersion(this.db, this.table);
  }

  /** The bookkeeping tables exist on this connection (created once per migration, not per write). */
  private stateTables = false;

  private ensureStateTables(): void {
    if (this.stateTables && this.inTransaction) return;
    ensureStateTables(this.db, this.table, this.choice);
    this.stateTables = true;
  }

  async writeVersion(state: VersionState): Promise<void> {
    if (this.inTransaction && !state.dirty) this.assertIntact();
    this.ensureStateTables();
    writeVersion(this.db, state, this.table, this.choice);
    if (!this.inTransaction) return;
    this.expected = state;
    if (state.dirty) this.dirtyAt = state.version;
  }

  async appendHistory(entry: HistoryEntry): Promise<void> {
    if (this.inTransaction) this.assertIntact();
    this.ensureStateTables();
    appendHistory(this.db, entry, this.table);
  }

  async watchRows(): Promise<void> {
    this.watch = new SqliteRowWatch(this.db, this.table);
  }

  async rowChanges(deletesRows: readonly string[]): Promise<RowChanges> {
    return this.watch ? this.watch.changes(deletesRows) : { changed: [], lost: [] };
  }

  /** Foreign keys are off while migrations run (a rebuild must not cascade): no commit may leave a new dangling reference among the tables it wrote. */
  async checkBeforeCommit(): Promise<void> {
    // A code migration's ATTACH is seen only here; what it wrote there is rolled back with the rest.
    const attached = (this.db.pragma('database_list') as Array<{ name: string; file: string }>).filter((d) => d.name !== 'main' && d.name !== 'temp');
    if (attached.length > 0) {
      throw new DataError('outside-database', `${this.label} attached ${attached.map((d) => `${d.name} (${d.file || 'in memory'})`).join(', ')}: a migration changes only its own database, which is what the backup, the row-count check and restore cover.`, {
        hint: 'Change only this database in its migrations; move data between database files with a separate, separately backed-up step.',
      });
    }
    const fresh = this.watch?.newForeignKeyViolations() ?? [];
    if (fresh.length === 0) return;
    const sample = fresh.slice(0, 5).map((v) => `${v.table} rowid ${v.rowid} → ${v.parent}`).join(', ');
    throw new DataError('foreign-key-violation', `${this.label} leaves ${fresh.length} rows pointing at missing parents (${sample}).`, {
      hint: 'Foreign keys are off while migrations run so rebuilds cannot cascade; delete or fix child rows explicitly in the migration.',
    });
  }

  /** Still dbshift's own transaction? A migration can end it (COMMIT, ROLLBACK, INSERT OR ROLLBACK) and even begin another; only the mark tells. */
  intact(): boolean {
    try {
      return this.db.inTransaction && (this.expected === undefined || sameState(readVersion(this.db, this.table), this.expected));
    } catch {
      return false;
    }
  }

  assertIntact(): void {
    if (this.intact()) return;
    throw new DataError('migration-ended-transaction', `${this.label} ended dbshift's transaction itself (COMMIT, ROLLBACK or INSERT OR ROLLBACK).`, {
      hint: 'Remove the COMMIT/ROLLBACK from the migration: dbshift commits it together with its bookkeeping.',
    });
  }

  /**
   * After a failure in the transaction: roll back, and say whether that is proven. It is when
   * the transaction was still dbshift's, with its mark, and after ROLLBACK the mark is gone; a
   * mark that survives was committed by the migration, and what it did after that may be too.
   */
  failed(error: unknown): unknown {
    const wasIntact = this.intact();
    const rollbackFailure = rollBack(this.db);
    // Nothing of the migration ran before its dirty mark was written.
    if (this.dirtyAt === undefined) return error;
    let after: VersionState | undefined;
    try {
      after = readVersion(this.db, this.table);
    } catch {
      after = undefined;
    }
    if (rollbackFailure === undefined && after && wasIntact && !sameState(after, this.expected!)) return error;
    return new EscapedTransaction(error, rollbackFailure, markDirty(this.db, this.dirtyAt, this.table, this.choice));
  }
}

export class SqliteDriver implements Driver<MigrationContext> {
  readonly dialect = 'sqlite';
  readonly location: string;
  private held: Held | undefined;
  /** The last migration's connection, when it cannot have changed it (connection.ts): the next migration's. */
  private spare: Db | undefined;
  /** golang-migrate's x-migrations-table: one version table (and its own history) per service. */
  private readonly table: string;
  private choice: VersionTableChoice = DEFAULT_CHOICE;

  constructor(
    private readonly config: SqliteConfig,
    private readonly options: SqliteDriverOptions,
  ) {
    this.location = config.database;
    this.table = config.versionTable ?? VERSION_TABLE;
  }

  /**
   * The instance lock in the directory of the database's real file: two runs that reach one
   * file through different paths (a symlink) take the same lock. While it is held, a migration
   * that ends the process (process.exit in a callback) releases it and exits 65, not its own code.
   */
  async lock(options: LockOptions): Promise<string[]> {
    const { database } = this.config;
    const now = this.options.now ?? (() => new Date());
    const notices: string[] = [];
    // A mistyped --database must not leave a new directory behind before it is refused.
    if (!this.options.create && !fs.existsSync(database)) throw missingDatabase(database);
    const dir = ensureDirectory(path.dirname(realPath(database)));
    const lock = await acquireInstanceLockWaiting(dir, this.options.command, now, options.wait ? options.waitMs : 0, options.signal, options.onWait);
    try {
      if (lock.tookOverFrom) notices.push(`Took over a stale lock of pid ${lock.tookOverFrom.pid}, which is no longer running.`);
      const created = !fs.existsSync(database);
      if (created) {
        if (!this.options.create) throw missingDatabase(database);
        createEmptyExclusive(database);
        notices.push(`Created a new, empty database at ${database}.`);
      }
      const file = realPath(database);
      assertWritable(file);
      if (fs.existsSync(this.config.backupDir)) {
        // Under the lock no other run of this database is active: its partial backups are leftovers.
        const own = partialPurpose(file);
        for (const leftover of removeLeftovers([this.config.backupDir], (name) => name.includes(`.${own}${TEMP_MARKER}`))) notices.push(`Removed ${leftover}, left by an interrupted run.`);
      }
      const db = openWritable(file, this.config.busyTimeoutMs);
      db.pragma('foreign_keys = OFF');
      this.held = { lock, file, db, created, exitGuard: guardProcessExit(() => lock.release(), database) };
      return notices;
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  async unlock(): Promise<void> {
    this.spare?.close();
    this.spare = undefined;
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    try {
      held.exitGuard.release();
      held.db.close();
    } finally {
      held.lock.release();
    }
  }

  private locked(): Held {
    if (!this.held) throw new InternalError('not-locked', `${this.location}: a change was attempted without the lock.`);
    return this.held;
  }

  /** Under the lock on its connection; otherwise read-only, with no lock (version, history, validate, dry runs). */
  private read<T>(fn: (db: Db) => T, empty: T): T {
    if (this.held) return fn(this.held.db);
    return withReadonlyDatabase(this.config, (db) => {
      if (db) return fn(db);
      if (this.options.create || this.options.missingIsEmpty) return empty;
      throw missingDatabase(this.config.database);
    });
  }

  knowMigrations(set: MigrationSet<MigrationContext>): void {
    this.choice = versionTableChoice(set.migrations);
  }

  async readVersion(): Promise<VersionState> {
    return this.read((db) => readVersion(db, this.table), { version: 0, dirty: false });
  }

  async readHistory(): Promise<HistoryEntry[]> {
    return this.read((db) => readHistory(db, this.table), []);
  }

  async setVersion(state: VersionState, entry?: HistoryEntry): Promise<void> {
    const { db } = this.locked();
    db.transaction(() => {
      ensureStateTables(db, this.table, this.choice);
      writeVersion(db, state, this.table, this.choice);
      if (entry) appendHistory(db, entry, this.table);
    })();
  }

  /** A connection in the baseline state: the last migration's if it is still exactly that, a new one otherwise. */
  private connection(): Db {
    const { file } = this.locked();
    const spare = this.spare;
    this.spare = undefined;
    if (spare && stillBaseline(spare)) return spare;
    spare?.close();
    return openChecked(file, this.config.busyTimeoutMs);
  }

  /** After a migration: its connection goes to the next one only after a commit, when the migration cannot have changed it. */
  private release(db: Db, session: SqliteSession, committed: boolean): void {
    session.revokeContext();
    if (committed && !session.changedConnection() && !db.inTransaction && this.held) this.spare = db;
    else db.close();
  }

  async transaction<T>(fn: (session: DriverSession<MigrationContext>) => Promise<T>, label: string): Promise<T> {
    const db = this.connection();
    const session = new SqliteSession(db, label, true, this.table, this.choice);
    let committed = false;
    try {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(session);
        session.assertIntact();
        db.exec('COMMIT');
        committed = true;
        return result;
      } catch (error) {
        throw session.failed(error);
      }
    } finally {
      this.release(db, session, committed);
    }
  }

  async autocommit<T>(fn: (session: DriverSession<MigrationContext>) => Promise<T>, label: string): Promise<T> {
    const db = this.connection();
    const session = new SqliteSession(db, label, false, this.table, this.choice);
    let committed = false;
    try {
      const result = await fn(session);
      if (db.inTransaction) {
        throw new DataError('migration-left-transaction-open', `${label} began a transaction and did not end it.`, { hint: 'End every BEGIN in the migration with COMMIT.' });
      }
      committed = true;
      return result;
    } catch (error) {
      rollBack(db);
      throw error;
    } finally {
      this.release(db, session, committed);
    }
  }

  /** A database this run created empty holds nothing to keep: no backup of it (apps starting on a new database). */
  async backup(dir: string, now: Date, options: { signal?: AbortSignal; onStart?(): void } = {}): Promise<BackupRef | null> {
    const held = this.locked();
    if (held.created) return null;
    options.onStart?.();
    return backupDatabase(held.db, { ...this.config, backupDir: dir }, now, options.signal);
  }

  raisedByDatabase(error: unknown): boolean {
    return error instanceof Database.SqliteError;
  }

  /** `up` lints what it is about to run on the schema the database has (no replay of the applied chain); `lint` replays it all. */
  async lint(set: MigrationSet<MigrationContext>, only?: ReadonlySet<number>): Promise<LintFinding[]> {
    if (!only) return lintMigrations(set);
    return lintMigrations(set, only, this.read(liveSchema, []));
  }

  async close(): Promise<void> {
    await this.unlock();
  }
}

/**
 * A file this user cannot write (mode, owner, a read-only mount, chattr +i): refused before the
 * backup (73), not after it as SQLite's "attempt to write a readonly database" (which read as 66).
 */
function assertWritable(file: string): void {
  try {
    fs.accessSync(file, fs.constants.W_OK);
  } catch (error) {
    throw new CannotCreateError('database-read-only', `${file} is not writable by this user (${(error as NodeJS.ErrnoException).code}): no migration can change it.`, {
      hint: 'Run as the user that owns the database (the app\'s user), or make the file and its directory writable (a read-only mount must be remounted read-write).',
      dataState: 'Nothing was changed.',
      cause: error,
    });
  }
}
