import Database from 'better-sqlite3';
import { BusyError, DataError, InternalError, InterruptedError, ToolError, toToolError } from '../errors.js';
import { foreignKeyViolations, newForeignKeyViolations, type ForeignKeyViolation } from '../sqlite/checks.js';
import { countRows } from '../sqlite/introspect.js';
import type { Db } from '../sqlite/open.js';
import type { Check } from '../plans/unit.js';
import { yieldToEventLoop } from '../yield.js';
import { migrationLabel } from './discover.js';
import { rebuildTable } from './rebuild.js';
import { appendHistory, ensureStateTables, HISTORY_TABLE, readVersion, VERSION_TABLE, writeVersion } from './state.js';
import type { MigrationBody, MigrationContext, MigrationDefinition, MigrationStep, VersionState } from './types.js';

// One migration, one direction, on a connection of its own. In a transaction (the default) the
// migration, its checks and its bookkeeping commit together: a failure leaves no trace. Outside
// one (`-- dbshift:no-transaction`, or a file that runs its own COMMIT) golang-migrate's protocol
// applies: dirty before, clean after, and a failure leaves the database dirty until `force`.
//
// Every migration gets a new connection in the same, checked state: a pragma one migration sets
// (people write `PRAGMA foreign_keys=ON` out of habit) must not reach the next one's table
// rebuild, where DROP TABLE would cascade-delete every child row. Foreign keys are off (set
// before any BEGIN: the pragma is a no-op inside a transaction); foreign_key_check runs before
// every commit instead, and no table may lose rows the migration did not declare it deletes.

export interface StepOutcome {
  step: MigrationStep;
  status: 'applied';
  durationMs: number;
  checks: Check[];
  summary?: unknown;
  /** Tables whose row count changed: before and after. */
  rowCounts: Record<string, { before: number; after: number }>;
}

export interface StepRun {
  /** Opens a new connection to the database, for this migration alone. */
  open(): Db;
  /** The version the plan started this migration from; if the database is elsewhere now, another run moved it. */
  versionBefore: number;
  now: () => Date;
  signal?: AbortSignal;
}

/** What a fresh connection is; a migration starts only from exactly this. */
const CONNECTION_BASELINE: Record<string, number> = {
  foreign_keys: 0,
  defer_foreign_keys: 0,
  legacy_alter_table: 0,
  recursive_triggers: 0,
  ignore_check_constraints: 0,
  writable_schema: 0,
  query_only: 0,
};

function openChecked(run: StepRun): Db {
  const db = run.open();
  // better-sqlite3 turns foreign keys on for every connection; migrations run with them off.
  db.pragma('foreign_keys = OFF');
  const off = Object.entries(CONNECTION_BASELINE).filter(([pragma, value]) => Number(db.pragma(pragma, { simple: true })) !== value);
  if (off.length > 0) {
    db.close();
    throw new InternalError('connection-state', `A new migration connection is not in its baseline state: ${off.map(([p]) => p).join(', ')}.`);
  }
  return db;
}

/** What a migration's up/down/verify receive; lint's in-memory replay uses the same. */
export function contextFor(db: Db): MigrationContext {
  return { db, exec: (sql) => db.exec(sql), rebuildTable: (table, change) => rebuildTable(db, table, change) };
}

interface TableRows {
  name: string;
  rows: number;
  /** A RENAME keeps the table's b-tree: how a renamed table is recognised. */
  rootpage: number;
}

/** Row counts of every user table but the bookkeeping, keyed by lower-case name (SQLite's own comparison). */
function rowCounts(db: Db): Map<string, TableRows> {
  const tables = db
    .prepare(`SELECT name, rootpage FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT IN (?, ?)`)
    .all(VERSION_TABLE, HISTORY_TABLE) as Array<{ name: string; rootpage: number }>;
  const counts = new Map<string, TableRows>();
  for (const { name, rootpage } of tables) {
    try {
      counts.set(name.toLowerCase(), { name, rows: countRows(db, name), rootpage });
    } catch {
      // A virtual table whose module is not loaded here cannot be counted; nothing to compare.
    }
  }
  return counts;
}

/** The table `before` became: the same name, or (renamed) the same b-tree; undefined if it was dropped. */
function successor(key: string, table: TableRows, after: Map<string, TableRows>): TableRows | undefined {
  return after.get(key) ?? [...after.values()].find((t) => t.rootpage === table.rootpage && table.rootpage > 0);
}

function changedCounts(before: Map<string, TableRows>, after: Map<string, TableRows>): StepOutcome['rowCounts'] {
  const changed: StepOutcome['rowCounts'] = {};
  for (const [key, { name, rows }] of after) {
    const old = before.get(key)?.rows ?? 0;
    if (old !== rows) changed[name] = { before: old, after: rows };
  }
  return changed;
}

/** Tables that still exist (under their name or, renamed, by their b-tree) but lost rows the migration did not declare it deletes. */
function assertNoRowsLost(label: string, body: MigrationBody, before: Map<string, TableRows>, after: Map<string, TableRows>): void {
  const allowed = new Set((body.deletesRows ?? []).map((t) => t.toLowerCase()));
  const lost = [...before].flatMap(([key, table]) => {
    const now = successor(key, table, after);
    return now && now.rows < table.rows && !allowed.has(key) && !allowed.has(now.name.toLowerCase()) ? [{ table, now }] : [];
  });
  if (lost.length === 0) return;
  const list = lost.map(({ table, now }) => `${table.name}${now.name === table.name ? '' : ` (now ${now.name})`} (${table.rows} -> ${now.rows})`).join(', ');
  const first = lost[0]!.now.name;
  throw new DataError('rows-lost', `${label} deletes rows it does not declare: ${list}.`, {
    hint: `If the deletion is meant, declare it in the migration (\`-- dbshift:deletes-rows ${first}\` in the SQL file, or \`export const deletesRows = ['${first}']\` in code) and run again. If not, look for a cascade: a \`PRAGMA foreign_keys=ON\` before a DROP TABLE deletes the children of every dropped parent row.`,
  });
}

interface Before {
  fk: ForeignKeyViolation[];
  counts: Map<string, TableRows>;
}

type Verified = { checks: Check[]; summary?: unknown };

/**
 * The context a migration's code receives, revoked when it returns: work it scheduled for
 * later (a callback, the rest of an async function) must not reach the connection after its
 * checks ran, or after dbshift rolled it back.
 */
function revocableContext(db: Db, label: string): { ctx: MigrationContext; revoke(): void } {
  let live = true;
  const guard = () => {
    if (!live) throw new DataError('migration-outlived', `${label} used its connection after it returned (a callback or an await); a migration does all its work inside up() or down().`);
  };
  const proxy = new Proxy(db, {
    get(target, property) {
      guard();
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    ctx: { db: proxy, exec: (sql) => (guard(), db.exec(sql), undefined), rebuildTable: (table, change) => (guard(), rebuildTable(db, table, change)) },
    revoke: () => {
      live = false;
    },
  };
}

/** The migration itself and its own verify(); user code runs synchronously, with process.exit disarmed. */
async function runMigration(db: Db, migration: MigrationDefinition, body: MigrationBody, label: string): Promise<Verified> {
  const { ctx, revoke } = revocableContext(db, label);
  try {
    const userCode = migration.kind === 'code';
    if (userCode) withoutProcessExit(label, () => body.run(ctx));
    else await body.run(ctx);
    const verified = userCode ? withoutProcessExit(label, () => body.verify?.(ctx)) : body.verify?.(ctx);
    return Array.isArray(verified) ? { checks: verified } : (verified ?? { checks: [] });
  } finally {
    revoke();
  }
}

/** What must hold before COMMIT: its own checks, no new foreign-key violation, no undeclared row loss. */
function assertSafeToCommit(db: Db, body: MigrationBody, label: string, before: Before, verified: Verified): StepOutcome['rowCounts'] {
  const failed = verified.checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new DataError('migration-verify-failed', `${label}: verify failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}.`);
  }
  const fresh = newForeignKeyViolations(before.fk, foreignKeyViolations(db));
  if (fresh.length > 0) {
    const sample = fresh.slice(0, 5).map((v) => `${v.table} rowid ${v.rowid} → ${v.parent}`).join(', ');
    throw new DataError('foreign-key-violation', `${label} leaves ${fresh.length} rows pointing at missing parents (${sample}).`, {
      hint: 'Foreign keys are off while migrations run so rebuilds cannot cascade; delete or fix child rows explicitly in the migration.',
    });
  }
  const after = rowCounts(db);
  assertNoRowsLost(label, body, before.counts, after);
  return changedCounts(before.counts, after);
}

/**
 * A migration that calls process.exit would end dbshift mid-transaction with whatever exit
 * code it chose (`dbshift up && deploy` would deploy). Inside the migration the call throws.
 */
function withoutProcessExit<T>(label: string, fn: () => T): T {
  const exit = process.exit;
  process.exit = ((code?: number | string | null) => {
    throw new DataError('migration-called-exit', `${label} called process.exit(${code ?? ''}); a migration must not end the process.`);
  }) as typeof process.exit;
  try {
    return fn();
  } finally {
    process.exit = exit;
  }
}

/** Whatever a migration threw (an Error, a string, null, an object without a prototype), as words. */
function describeThrown(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error === null || error === undefined) return `it threw ${String(error)}`;
  try {
    return String(error);
  } catch {
    return 'it threw a value that cannot be shown';
  }
}

/**
 * Blame the migration, not dbshift, for what its own SQL or code threw. SQLite's errors keep
 * their meaning (a full disk is 74, a lock 75); anything else a migration throws (an Error with
 * an errno-like code, an AbortError, a plain object) is the migration's failure, 65.
 */
function asMigrationError(error: unknown, label: string, dataState: string): ToolError {
  const ours = error instanceof ToolError || error instanceof Database.SqliteError;
  const tool = ours ? toToolError(error) : new InternalError('migration-threw', describeThrown(error));
  const wrapped =
    tool instanceof InternalError
      ? new DataError('migration-failed', `${label} failed: ${describeThrown(error)}`, { cause: error })
      : tool instanceof DataError && !tool.message.startsWith(label)
        ? new DataError(tool.code, `${label}: ${tool.message}`, { ...(tool.hint ? { hint: tool.hint } : {}), cause: error })
        : tool;
  wrapped.dataState = dataState;
  return wrapped;
}

/** Under the write lock: the plan was made from `expected`; if another run moved the version since, stop. */
function assertVersionUnmoved(db: Db, expected: number): void {
  const now = readVersion(db);
  if (now.version === expected && !now.dirty) return;
  throw new BusyError('version-moved', `The database moved to version ${now.version}${now.dirty ? ' (dirty)' : ''} while this run expected version ${expected}: another run is migrating it.`, {
    hint: 'Let the other run finish, then run the same command again; it plans from the new version.',
    dataState: `This migration did not run; the database is at version ${now.version}.`,
  });
}

function dirtyHint(version: number): string {
  return `Inspect the database, finish or undo the migration by hand, then run \`dbshift force ${version}\` (or the version below if you undid it), and \`dbshift up\` again.`;
}

export async function executeStep(migration: MigrationDefinition, step: MigrationStep, run: StepRun): Promise<StepOutcome> {
  const body = migration[step.direction];
  if (!body) throw new InternalError('no-body', `${migrationLabel(step)} has no ${step.direction} migration.`);
  const label = `Migration ${migrationLabel(step)} (${step.direction})`;
  const started = performance.now();
  const record = (db: Db) =>
    appendHistory(db, {
      version: step.version,
      name: step.name,
      direction: step.direction,
      checksum: migration.checksum,
      appliedAt: run.now().toISOString(),
      durationMs: performance.now() - started,
    });
  const db = openChecked(run);
  try {
    return body.transactional ? await inTransaction(db) : await outsideTransaction(db);
  } finally {
    db.close();
  }

  async function inTransaction(db: Db): Promise<StepOutcome> {
    db.exec('BEGIN IMMEDIATE');
    let marked = false;
    // Still dbshift's own transaction, with its dirty mark? A migration can end it (COMMIT,
    // ROLLBACK, INSERT OR ROLLBACK) and even begin another; only the mark tells.
    const intact = () => {
      try {
        return db.inTransaction && (!marked || isMark(readVersion(db), step.versionAfter));
      } catch {
        return false;
      }
    };
    try {
      assertVersionUnmoved(db, run.versionBefore);
      ensureStateTables(db);
      const before: Before = { fk: foreignKeyViolations(db), counts: rowCounts(db) };
      // Dirty first, in the same transaction: should the migration commit on its own, the mark
      // is committed with it and the database tells the truth.
      writeVersion(db, { version: step.versionAfter, dirty: true });
      marked = true;
      const verified = await runMigration(db, migration, body!, label);
      // Ctrl-C is seen here (twice: a signal is read in the loop's poll phase, and one turn may
      // start after it). Whatever the migration scheduled has run by now too, so the checks
      // below see it; from them to COMMIT nothing awaits.
      await yieldToEventLoop();
      await yieldToEventLoop();
      if (run.signal?.aborted) throw new InterruptedError('interrupted', `Interrupted during ${migrationLabel(step)}.`);
      const changed = assertSafeToCommit(db, body!, label, before, verified);
      if (!intact()) {
        throw new DataError('migration-ended-transaction', `${label} ended dbshift's transaction itself (COMMIT, ROLLBACK or INSERT OR ROLLBACK).`, {
          hint: 'Remove the COMMIT/ROLLBACK from the migration: dbshift commits it together with its bookkeeping.',
        });
      }
      writeVersion(db, { version: step.versionAfter, dirty: false });
      record(db);
      db.exec('COMMIT');
      return { step, status: 'applied', durationMs: performance.now() - started, ...verified, rowCounts: changed };
    } catch (error) {
      const markVisible = intact();
      const rollback = rollBack(db);
      if (error instanceof BusyError && error.code === 'version-moved') throw error;
      // Rolled back for sure: the transaction dbshift began was still open with its mark, and
      // after ROLLBACK the mark is gone. A mark that survives was committed by the migration.
      const after = readVersionSafely(db);
      if (rollback === undefined && after && (!marked || (markVisible && !isMark(after, step.versionAfter)))) {
        throw asMigrationError(error, label, `It was rolled back: no changes were applied, the version stays ${after.version}.`);
      }
      // What the migration did after ending dbshift's transaction is committed, or unknown:
      // the database must say so, whether or not the mark survived.
      const marking = markDirty(db, step.versionAfter);
      const tool = asMigrationError(
        error,
        label,
        `Some of its statements may have been committed (it ended dbshift's transaction itself${rollback ? `, and the rollback failed: ${rollback}` : ''}): ${marking ?? `the database is marked dirty at version ${step.versionAfter}`}.`,
      );
      tool.hint = dirtyHint(step.versionAfter);
      throw tool;
    }
  }

  async function outsideTransaction(db: Db): Promise<StepOutcome> {
    // Check and mark in one transaction under the write lock: no other run can slip in between.
    db.exec('BEGIN IMMEDIATE');
    try {
      assertVersionUnmoved(db, run.versionBefore);
      ensureStateTables(db);
      writeVersion(db, { version: step.versionAfter, dirty: true });
      db.exec('COMMIT');
    } catch (error) {
      rollBack(db);
      if (error instanceof BusyError) throw error;
      throw asMigrationError(error, label, 'Nothing was changed.');
    }
    try {
      const before: Before = { fk: foreignKeyViolations(db), counts: rowCounts(db) };
      const verified = await runMigration(db, migration, body!, label);
      await yieldToEventLoop();
      const changed = assertSafeToCommit(db, body!, label, before, verified);
      if (db.inTransaction) {
        throw new DataError('migration-left-transaction-open', `${label} began a transaction and did not end it.`, { hint: 'End every BEGIN in the migration with COMMIT.' });
      }
      db.transaction(() => {
        writeVersion(db, { version: step.versionAfter, dirty: false });
        record(db);
      })();
      return { step, status: 'applied', durationMs: performance.now() - started, ...verified, rowCounts: changed };
    } catch (error) {
      rollBack(db);
      const tool = asMigrationError(error, label, `It ran outside a transaction, so some of its statements may have taken effect: the database is marked dirty at version ${step.versionAfter}.`);
      tool.hint = dirtyHint(step.versionAfter);
      throw tool;
    }
  }
}

const isMark = (state: VersionState, version: number) => state.dirty && state.version === version;

/** Mark the database dirty at `version` in a transaction of its own; returns why that failed, if it did. */
function markDirty(db: Db, version: number): string | undefined {
  try {
    db.transaction(() => writeVersion(db, { version, dirty: true }))();
    return undefined;
  } catch (error) {
    return `marking it dirty at version ${version} failed too (${describeThrown(error)}): run \`dbshift force ${version}\` after checking it by hand`;
  }
}

/** Roll back whatever is open; returns why that failed, if it did. */
function rollBack(db: Db): string | undefined {
  try {
    if (db.inTransaction) db.exec('ROLLBACK');
    return undefined;
  } catch (error) {
    return describeThrown(error);
  }
}

function readVersionSafely(db: Db) {
  try {
    return readVersion(db);
  } catch {
    return undefined;
  }
}
