import type { Db } from '../sqlite/db.js';
import type { Check } from '../results.js';
import type { RebuildChange } from './rebuild.js';

export type Direction = 'up' | 'down';

/** What a code migration (`NNNNNN_name.ts` / `.js`) receives. Everything is synchronous. */
export interface MigrationContext {
  /** The better-sqlite3 connection, inside the migration's transaction (foreign keys off, checked before commit). */
  db: Db;
  /** Run one or more SQL statements. */
  exec(sql: string): void;
  /** sqlite.org's 12-step table rebuild: change a column's type or constraints, add UNIQUE, drop an indexed column… */
  rebuildTable(table: string, change: RebuildChange): void;
}

/** What a migration's verify() returns: its checks, and (built-in units) a summary. */
export type Verification = Check[] | { checks: Check[]; summary?: unknown } | void;

/**
 * One direction of a migration, ready to run on a database whose migrations receive `Ctx`:
 * SQLite's synchronous MigrationContext, or PostgreSQL's async { query, exec }.
 */
export interface MigrationBody<Ctx = MigrationContext> {
  /** SQL text (SQL migrations; printed by --dry-run), or undefined for code. */
  sql?: string;
  /**
   * Code migrations: import the module. Discovery only parses it, so commands that change
   * nothing never evaluate user code; the runner loads what it is about to apply.
   */
  load?(): Promise<void>;
  /** Runs the migration. On SQLite synchronous, except built-in units (chunked backfills); on PostgreSQL may be async. */
  run(ctx: Ctx): void | Promise<void>;
  /** Runs before commit; a failing check (or a throw) rolls the migration back. Built-in units add a summary. */
  verify?(ctx: Ctx): Verification | Promise<Verification>;
  /** False: golang-migrate's dirty protocol instead of one transaction (the marker, or statements that cannot run in one). */
  transactional: boolean;
  /** Why it cannot run in a transaction (detected statements or the marker), for the plan and the record. */
  noTransactionReasons?: string[];
  /** Why it runs the way it does, when the file itself decided (its own BEGIN/COMMIT); for --dry-run and the result. */
  note?: string;
  /** Why it cannot run as written (e.g. a COMMIT with no BEGIN before it); planning refuses it before anything runs. */
  invalid?: string;
  /**
   * Tables whose rows the migration means to delete (`-- dbshift:deletes-rows t1, t2`; code:
   * `export const deletesRows = ['t1']`). Any other table that loses rows refuses the commit.
   */
  deletesRows?: string[];
}

/** A migration as found on disk (or built in): a version, a name and its files. */
export interface MigrationDefinition<Ctx = MigrationContext> {
  version: number;
  /** The version's digits as the file name writes them ("001"): dbmate records this text, not the number. */
  versionText?: string;
  /** dbmate's one-file format (both directions in one file); golang-migrate's and code migrations otherwise. */
  format?: 'dbmate';
  name: string;
  kind: 'sql' | 'code' | 'builtin';
  /** Files that make the migration (checksummed), relative to the migrations directory. */
  files: string[];
  /** The Markdown document beside it, if any. */
  doc?: string;
  /** SHA-256 over the migration's files (not the document: fixing a typo in the docs is not a schema change). */
  checksum: string;
  up?: MigrationBody<Ctx>;
  down?: MigrationBody<Ctx>;
}

/** What planning needs of a migration, whatever database runs it. */
export type PlannableMigration = Pick<MigrationDefinition, 'version' | 'name' | 'files' | 'checksum'> & { up?: PlannableBody; down?: PlannableBody };

/** What planning asks of a body: only whether it can run as written. */
export interface PlannableBody {
  /** Why it cannot run as written (e.g. a stray COMMIT), refused before anything runs. */
  invalid?: string;
}

export interface MigrationSet<Ctx = MigrationContext> {
  /** Directory the migrations came from, or `builtin:<name>`. */
  source: string;
  migrations: MigrationDefinition<Ctx>[];
  /** Files in the directory that look like migrations but are not read (Alembic's .py, misnamed SQL); lint reports them. */
  ignored?: string[];
  /** Files that look like migrations but cannot run (only when discovery was asked to list them: lint). */
  unrunnable?: UnrunnableFile[];
}

/** A file that looks like a migration but cannot run: refused before anything runs (lint lists them all). */
export interface UnrunnableFile {
  file: string;
  problem: string;
  fix: string;
}

export interface VersionState {
  /** 0 when no migration is applied (golang-migrate's NilVersion, written as no row). */
  version: number;
  dirty: boolean;
  /** Every applied version, when the table records them one by one (dbmate's): planning refuses a gap below the version. */
  applied?: number[];
}

export interface HistoryEntry {
  version: number;
  name: string;
  direction: Direction | 'force';
  checksum: string | null;
  appliedAt: string;
  durationMs: number;
}

/** One migration run in one direction, as planned and (once run) as it went. */
export interface MigrationStep {
  version: number;
  name: string;
  direction: Direction;
  /** Version recorded after this step: the migration's own (up) or the one below it (down). */
  versionAfter: number;
}
