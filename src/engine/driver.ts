import type { Check } from '../plans/unit.js';
import type { LintFinding } from './lint.js';
import type { HistoryEntry, MigrationDefinition, VersionState } from './types.js';

// The boundary between the engine (discovery, planning, checksums, history logic, results:
// written once) and a database (SQLite, PostgreSQL: what differs). Modelled on golang-migrate's
// database.Driver (Open/Close, Lock/Unlock, Run, SetVersion/Version), with two differences
// that are the point of dbshift: the driver runs a migration *and its bookkeeping* in one
// transaction, and it knows how to back the database up and count its rows.
//
// `Ctx` is what a migration's up/down/verify receive: SQLite's synchronous MigrationContext,
// PostgreSQL's async { query, exec }.

/** One direction of a migration as a driver runs it. */
export interface DriverBody<Ctx> {
  /** SQL text (SQL migrations). */
  sql?: string;
  /** False: run with golang-migrate's dirty protocol instead of one transaction. */
  transactional: boolean;
  /** Why it cannot run as written; planning refuses it before anything runs. */
  invalid?: string;
  /** Why it cannot run in a transaction (detected statements or the marker), for the plan and the record. */
  noTransactionReasons?: string[];
  /** Why it runs the way it does, when the file itself decided (its own BEGIN/COMMIT). */
  note?: string;
  /** Tables whose rows it means to delete (`-- dbshift:deletes-rows`); any other table that loses rows refuses the commit. */
  deletesRows?: string[];
  /** Code migrations: import the module (discovery only parsed it); the runner loads what it is about to apply. */
  load?(): Promise<void>;
  run(ctx: Ctx): void | Promise<void>;
  verify?(ctx: Ctx): Check[] | { checks: Check[]; summary?: unknown } | void | Promise<Check[] | { checks: Check[]; summary?: unknown } | void>;
}

/** What a migration's work sees inside `transaction` or `autocommit`. */
export interface DriverSession<Ctx> {
  /** Handed to the migration's run/verify. */
  ctx: Ctx;
  /** golang-migrate's Version and SetVersion on this session (inside the transaction when there is one). */
  readVersion(): Promise<VersionState>;
  writeVersion(state: VersionState): Promise<void>;
  /** Rows per user table (bookkeeping excluded), as this session sees them: the row-loss backstop. */
  rowCounts(): Promise<Record<string, number>>;
  appendHistory(entry: HistoryEntry): Promise<void>;
  /** The driver's own checks before commit (SQLite: no new foreign_key_check violations); throws a DataError. */
  checkBeforeCommit?(): Promise<void>;
}

export interface LockOptions {
  /** Wait for another runner instead of failing at once with a BusyError (75). */
  wait: boolean;
  /** How long to wait at most. */
  waitMs: number;
  signal?: AbortSignal;
}

export interface BackupRef {
  path: string;
  sha256: string;
  /** How to bring it back by hand (e.g. the pg_restore command line, password-free). */
  restoreCommand?: string;
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

  /** One runner at a time (SQLite: the instance lock file; PostgreSQL: a session-level advisory lock). */
  lock(options: LockOptions): Promise<void>;
  unlock(): Promise<void>;

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

  /** A checksummed backup in `dir` (file 0600 + `.sha256`), named with `now`. */
  backup(dir: string, now: Date, signal?: AbortSignal): Promise<BackupRef>;
  /** Rows per user table, for the before/after summary. */
  rowCounts(): Promise<Record<string, number>>;
  /** The driver's lint (rules that need its dialect, and a replay on a scratch database). */
  lint?(set: DriverMigrationSet<Ctx>, only?: ReadonlySet<number>): Promise<LintFinding[]>;

  close(): Promise<void>;
}

/** A migration whose bodies a driver runs (a SQLite MigrationDefinition is one with Ctx = MigrationContext). */
export type DriverMigration<Ctx> = Omit<MigrationDefinition, 'up' | 'down'> & { up?: DriverBody<Ctx>; down?: DriverBody<Ctx> };

export interface DriverMigrationSet<Ctx> {
  source: string;
  migrations: DriverMigration<Ctx>[];
  /** Files that look like migrations but never run (lint reports them). */
  ignored?: string[];
}
