import type { LintFinding } from './lint-registry.js';
import type { HistoryEntry, MigrationSet, MigrationStep, VersionState } from './types.js';

// The boundary between the engine (discovery, planning, checksums, history logic, results:
// written once) and a database (SQLite, PostgreSQL: what differs). Modelled on golang-migrate's
// database.Driver (Open/Close, Lock/Unlock, Run, SetVersion/Version), with two differences
// that are the point of dbshift: the driver runs a migration *and its bookkeeping* in one
// transaction, and it knows how to back the database up and which tables a migration changed.
//
// `Ctx` is what a migration's up/down/verify receive: SQLite's synchronous MigrationContext,
// PostgreSQL's async { query, exec }.

/**
 * A table whose rows a migration changed, as the row-loss backstop found it (docs/safety.md).
 * Tables are told apart the way their engine does: PostgreSQL by oid (a name is its exact,
 * case-sensitive spelling), SQLite by its case-insensitive name.
 */
export interface TableChange extends RowCount {
  /** The table as a `deletes-rows` declaration names it (PostgreSQL: quoted when its spelling needs it, schema-qualified outside the current schema). */
  name: string;
  /** Its name before the migration, when the migration renamed it, or dropped it and another table took its name. */
  was?: string;
}

/** A table's rows before and after a migration (or a run). */
export interface RowCount {
  /** Rows before the migration's first write to it; null: it did not exist (created), or it was not counted (dropped, or `added`). */
  before: number | null;
  /** Rows when the migration ended; null: dropped, or not counted (`added`). */
  after: number | null;
  /**
   * Set when the table only gained rows and was not counted: the rows the migration added. On
   * PostgreSQL a table over 16 MiB that kept its storage and lost no row (the server's own
   * per-transaction counters prove it) is not scanned for a number the proof does not need.
   */
  added?: number;
}

export interface RowChanges {
  /** Every table whose row count the migration changed: written, created or dropped. Tables it never wrote are not counted. */
  changed: TableChange[];
  /** Tables that lost rows the migration did not declare it deletes. */
  lost: TableChange[];
}

/** What a migration's work sees inside `transaction` or `autocommit`. */
export interface DriverSession<Ctx> {
  /** Handed to the migration's run/verify. */
  ctx: Ctx;
  /** golang-migrate's Version and SetVersion on this session (inside the transaction when there is one). */
  readVersion(): Promise<VersionState>;
  /**
   * In a transaction, a clean mark is bookkeeping for the migration's own work: the driver
   * refuses it if the migration ended the transaction it was given (its own COMMIT/ROLLBACK).
   */
  writeVersion(state: VersionState): Promise<void>;
  /** The row-loss backstop starts watching (before the migration's first statement): what it costs is in docs/safety.md. */
  watchRows(deletesRows: readonly string[]): Promise<void>;
  /** After the migration and its verify: the tables it changed, and those it lost rows of without declaring them in `deletesRows`. */
  rowChanges(deletesRows: readonly string[]): Promise<RowChanges>;
  appendHistory(entry: HistoryEntry): Promise<void>;
  /**
   * readVersion, watchRows and writeVersion(mark) in one round trip, where the driver can (a
   * migration's overhead on PostgreSQL is its round trips): returns the version as it was
   * before the mark. The caller still refuses a moved version; the transaction then rolls the
   * mark back with everything else.
   */
  startMigration?(deletesRows: readonly string[], mark: VersionState): Promise<VersionState>;
  /**
   * writeVersion(state) and appendHistory(entry) in one round trip, where the driver can: the
   * transaction's last work (the driver may send its COMMIT with them; nothing runs after).
   */
  finishMigration?(state: VersionState, entry: HistoryEntry): Promise<void>;
  /** The driver's own checks before commit (SQLite: no new foreign_key_check violations); throws a DataError. */
  checkBeforeCommit?(): Promise<void>;
  /**
   * The migration's own code has returned: what it scheduled for later (a callback, a promise
   * continuation) must not reach the connection after the checks ran.
   */
  revokeContext?(): void;
}

export interface LockOptions {
  /** Wait for another runner instead of failing at once with a BusyError (75). */
  wait: boolean;
  /** How long to wait at most. */
  waitMs: number;
  signal?: AbortSignal;
  /** Called once when the lock is held by another runner and this one starts waiting. */
  onWait?(holder: string): void;
}

export interface BackupRef {
  path: string;
  sha256: string;
  /** How to bring it back by hand (e.g. the pg_restore command line, password-free). */
  restoreCommand?: string;
}

/**
 * A transaction's work escaped it: the migration ended the transaction itself (its own COMMIT
 * or ROLLBACK) and went on, so what it did may be committed. The driver marked the database
 * dirty (or says in `marking` why it could not); the runner reports the cause, never a rollback.
 */
export class EscapedTransaction extends Error {
  constructor(
    override readonly cause: unknown,
    /** Why the rollback failed too, if it did. */
    readonly rollbackFailure?: string,
    /** Why marking the database dirty failed, if it did (then the operator must force by hand). */
    readonly markingFailure?: string,
  ) {
    super('the migration ended its transaction itself');
  }
}

/** What a failed migration left behind, found by the driver (e.g. PostgreSQL's INVALID indexes). */
export interface FailureReport {
  message: string;
  hint: string;
  /** The failure took no effect at all (e.g. the first statement timed out waiting for a lock): the dirty mark can be lifted. */
  untouched?: boolean;
}

export interface Driver<Ctx> {
  readonly dialect: 'sqlite' | 'postgres';
  /** Where the data is, safe to print: a path, or a URL with the password masked. */
  readonly location: string;

  /** One runner at a time (SQLite: the instance lock file; PostgreSQL: a session-level advisory lock). Returns what the operator should know (a stale lock taken over). */
  lock(options: LockOptions): Promise<string[]>;
  unlock(): Promise<void>;

  /**
   * The migrations this run works with: a database with no version table yet gets dbmate's
   * when every migration is in dbmate's format, and dbmate's rows are written as the files name them.
   */
  knowMigrations?(set: MigrationSet<Ctx>): void;
  /**
   * The steps a run is about to judge and run, before it asks how each runs (transactional):
   * for a driver that reads their files in one pass (PostgreSQL parses them in one call).
   */
  prepareSteps?(set: MigrationSet<Ctx>, steps: readonly MigrationStep[]): Promise<void>;
  /** golang-migrate's Version: 0 and clean when nothing is applied or there is no table yet. */
  readVersion(): Promise<VersionState>;
  readHistory(): Promise<HistoryEntry[]>;
  /** SetVersion and, when given, one history row, in one transaction of their own (force; the dirty protocol's marks). */
  setVersion(state: VersionState, entry?: HistoryEntry): Promise<void>;

  /**
   * `fn` in one transaction that commits only if `fn` returns. The driver may run `fn` again
   * from the start after a rollback (PostgreSQL retries a lock timeout), so `fn` must do
   * nothing outside the session it is given.
   */
  transaction<T>(fn: (session: DriverSession<Ctx>) => Promise<T>, label: string): Promise<T>;
  /** `fn` outside any transaction: each statement takes effect as it runs (the dirty protocol's middle). */
  autocommit<T>(fn: (session: DriverSession<Ctx>) => Promise<T>, label: string): Promise<T>;
  /** After a failed migration: what it left behind, with the fix. */
  inspectFailure?(error: unknown): Promise<FailureReport | undefined>;

  /**
   * A checksummed backup in `dir` (file 0600 + `.sha256`), named with `now`; null when there is
   * nothing to keep (a database this run created empty). `onStart` is called when a backup
   * really begins, so that progress never announces one that is not taken.
   */
  backup(dir: string, now: Date, options?: { signal?: AbortSignal; onStart?(): void }): Promise<BackupRef | null>;
  /**
   * An error the database itself raised (it keeps its meaning: a full disk is 74, a lock 75),
   * as opposed to whatever a migration's code threw (65, the migration's failure).
   */
  raisedByDatabase(error: unknown): boolean;
  /** The driver's lint (rules that need its dialect, and a replay on a scratch database). */
  lint?(set: MigrationSet<Ctx>, only?: ReadonlySet<number>): Promise<LintFinding[]>;

  close(): Promise<void>;
}
