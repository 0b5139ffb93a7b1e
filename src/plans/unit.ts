import type { BaselineSchema } from '../sqlite/introspect.js';
import type { Db } from '../sqlite/open.js';
import type { BuildPlan } from './build.js';

// A migration unit is everything one schema change needs, in one place: how to recognise how
// far a database is, the statements that bring it all the way (schema change and backfill),
// what to warn about beforehand and what to prove afterwards. The pipeline runs a unit on a
// work file; the versioned engine can run the same unit inside its own transaction.

export interface Inspection {
  /** Human-readable state, e.g. pre-v5 | partial | v5 | unknown. */
  state: string;
  /** Nothing left to do. */
  complete: boolean;
  /** Why the unit cannot run on this database (missing tables/columns, conflicting objects). */
  blockers: string[];
}

/** A set-based UPDATE over one table, run in rowid ranges bound to :lo and :hi. */
export interface BackfillStatement {
  table: string;
  sql: string;
}

export interface TransformPlan {
  /** DDL before the backfill (new columns, tables, indexes the backfill does not touch). */
  schema: string[];
  backfill: BackfillStatement[];
  /** DDL after the backfill (e.g. a UNIQUE index over backfilled values). */
  finish: string[];
  /** Extra named parameters the backfill statements use. */
  params: Record<string, string | number>;
  /** Queries run after the backfill, before `finish`: any row they return aborts the transform. */
  guards: Guard[];
}

export interface Guard {
  code: string;
  /** Says what the returned rows mean, e.g. "report identifiers would be duplicated". */
  message: string;
  /** Returns one row `{ id }` per violation. */
  sql: string;
}

// Checks and warnings are every command's vocabulary (src/results.ts); units produce them.
import type { Check, Warning } from '../results.js';

export interface UnitContext {
  /** The run's own moment, fixed once: used wherever the data has no date of its own. */
  runDate: Date;
}

export interface MigrationUnit<I extends Inspection = Inspection, S = unknown> {
  name: string;
  /** Register the SQL functions the unit's statements use, on every connection it touches. */
  prepare(db: Db): void;
  inspect(db: Db): I;
  /** Pure: the statements that bring a database in state `inspection` to complete. */
  plan(inspection: I, context: UnitContext): TransformPlan;
  /** What the run will warn about (read-only; runs on the source in preflight). */
  warnings(db: Db, inspection: I, context: UnitContext): Warning[];
  /**
   * Unit-specific proofs on the migrated database. Generic proofs (row counts, unchanged values,
   * integrity, foreign keys) are the pipeline's. `before` is the inspection of the source.
   */
  verify(db: Db, before: I, counted?: Record<string, Record<string, number>>): UnitVerification<S>;
  /**
   * Counts `verify` needs from every row, for the full comparison to take on its own pass
   * (aggregates over the migrated rows, aliased `m`). `setup` runs first (temp helpers), while
   * the connection may still write its temp schema; its results reach `verify` as `counted`.
   */
  rowCounts?(): { setup: string[]; perTable: Record<string, { join: string; aggregates: string[] }> };
  /** Where a worker thread finds `prepare` (a function cannot be posted to one): a module's URL and its export's name. */
  prepareIn?: { module: string; name: string };
  /** Columns that existed before and that the unit may fill where they were NULL. */
  fillableColumns(before: I): string[];
  /** The unit's place in its versioned migration set: `dbshift migrate` records it in schema_migrations. */
  version?: { version: number; name: string; checksum: string };
  /** Try the app's secret on a sample of encrypted values (preflight); undefined if the unit has none. */
  checkSecretKey?(db: Db, secretKey: string): KeyCheck;
  /**
   * Rows the unit cannot migrate correctly (preflight refuses them before anything is written),
   * and the row counts of the tables that scan read anyway.
   */
  blockingRows?(db: Db, inspection: I): { blocking: BlockingRows[]; counts: Record<string, number> };
  /** The one-pass build `dbshift migrate` runs (plans/build.ts); the versioned engine runs `plan` in place. */
  build: {
    plan(baseline: BaselineSchema, inspection: I, context: UnitContext): BuildPlan;
    /** Register the functions the build's statements call; they note the run's warnings as the rows go by. */
    prepare(db: Db): {
      warnings(): Warning[];
      /** Rows `blockingRows` would have refused, noted as the build read them (when preflight did not scan first). */
      blocking?(): BlockingRows[];
    };
  };
}

export interface BlockingRows {
  code: string;
  /** What is wrong with these rows and why the unit cannot migrate them. */
  message: string;
  count: number;
  ids: Array<number | string>;
}

export interface UnitVerification<S> {
  checks: Check[];
  /** Unit-specific summary for the report (status distributions, identifiers, …), from the same reads. */
  summary: S;
}

export interface KeyCheck {
  sampled: number;
  opened: number;
  /** Where the values that did not open live (table.column#id), never their content. */
  failures: string[];
}
