import { BusyError, DataError, InternalError, InterruptedError, toToolError, type ToolError } from '../errors.js';
import { foreignKeyViolations, newForeignKeyViolations, type ForeignKeyViolation } from '../sqlite/checks.js';
import { quoteIdent } from '../sqlite/introspect.js';
import type { Db } from '../sqlite/open.js';
import type { Check } from '../plans/unit.js';
import { yieldToEventLoop } from '../yield.js';
import { migrationLabel } from './discover.js';
import { rebuildTable } from './rebuild.js';
import { appendHistory, ensureStateTables, HISTORY_TABLE, readVersion, VERSION_TABLE, writeVersion } from './state.js';
import type { MigrationBody, MigrationContext, MigrationDefinition, MigrationStep } from './types.js';

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

/** Row counts of every user table but the bookkeeping, keyed by lower-case name (SQLite's own comparison). */
function rowCounts(db: Db): Map<string, { name: string; rows: number }> {
  const tables = db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT IN (?, ?)`)
    .all(VERSION_TABLE, HISTORY_TABLE) as Array<{ name: string }>;
  const counts = new Map<string, { name: string; rows: number }>();
  for (const { name } of tables) {
    try {
      counts.set(name.toLowerCase(), { name, rows: (db.prepare(`SELECT count(*) AS n FROM ${quoteIdent(name)}`).get() as { n: number }).n });
    } catch {
      // A virtual table whose module is not loaded here cannot be counted; nothing to compare.
    }
  }
  return counts;
}

function changedCounts(before: Map<string, { name: string; rows: number }>, after: Map<string, { name: string; rows: number }>): StepOutcome['rowCounts'] {
  const changed: StepOutcome['rowCounts'] = {};
  for (const [key, { name, rows }] of after) {
    const old = before.get(key)?.rows ?? 0;
    if (old !== rows) changed[name] = { before: old, after: rows };
  }
  return changed;
}

/** Tables that still exist but lost rows the migration did not declare it deletes (a dropped table is the migration's stated intent). */
function assertNoRowsLost(label: string, body: MigrationBody, before: Map<string, { name: string; rows: number }>, after: Map<string, { name: string; rows: number }>): void {
  const allowed = new Set((body.deletesRows ?? []).map((t) => t.toLowerCase()));
  const lost = [...before].filter(([key, { rows }]) => !allowed.has(key) && after.has(key) && after.get(key)!.rows < rows);
  if (lost.length === 0) return;
  const list = lost.map(([key, { name, rows }]) => `${name} (${rows} -> ${after.get(key)!.rows})`).join(', ');
  const first = lost[0]![1].name;
  throw new DataError('rows-lost', `${label} deletes rows it does not declare: ${list}.`, {
    hint: `If the deletion is meant, declare it in the migration (\`-- dbshift:deletes-rows ${first}\` in the SQL file, or \`export const deletesRows = ['${first}']\` in code) and run again. If not, look for a cascade: a \`PRAGMA foreign_keys=ON\` before a DROP TABLE deletes the children of every dropped parent row.`,
  });
}

async function runBody(db: Db, migration: MigrationDefinition, body: MigrationBody, label: string, before: { fk: ForeignKeyViolation[]; counts: Map<string, { name: string; rows: number }> }): Promise<{ checks: Check[]; summary?: unknown; rowCounts: StepOutcome['rowCounts'] }> {
  const ctx = contextFor(db);
  // A code migration is the user's code: it runs synchronously, with process.exit disarmed.
  const userCode = migration.kind === 'code';
  if (userCode) withoutProcessExit(label, () => body.run(ctx));
  else await body.run(ctx);
  const verified = userCode ? withoutProcessExit(label, () => body.verify?.(ctx)) : body.verify?.(ctx);
  const { checks, summary } = Array.isArray(verified) ? { checks: verified, summary: undefined } : (verified ?? { checks: [], summary: undefined });
  const failed = checks.filter((c) => !c.ok);
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
  const rowCountsChanged = changedCounts(before.counts, after);
  return summary === undefined ? { checks, rowCounts: rowCountsChanged } : { checks, summary, rowCounts: rowCountsChanged };
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

/** Whatever a migration threw (an Error, a string, null), as words. */
function describeThrown(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error === null || error === undefined) return `it threw ${String(error)}`;
  return String(error);
}

/** Blame the migration, not dbshift, for what its own SQL or code threw; keep I/O and busy errors as they are. */
function asMigrationError(error: unknown, label: string, dataState: string): ToolError {
  const tool = toToolError(error);
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
  throw new BusyError('version-moved', `The database moved to version ${now.version}${now.dirty ? ' (dirty)' : ''} while this run planned from version ${expected}: another run is migrating it.`, {
    hint: 'Let the other run finish, then run the same command again; it plans from the new version.',
    dataState: `This run changed nothing; the database is at version ${now.version}.`,
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
    try {
      assertVersionUnmoved(db, run.versionBefore);
      ensureStateTables(db);
      const before = { fk: foreignKeyViolations(db), counts: rowCounts(db) };
      // Dirty first, in the same transaction: should the migration commit on its own (a COMMIT
      // run from code), the mark is committed with it and the database tells the truth.
      writeVersion(db, { version: step.versionAfter, dirty: true });
      const verified = await runBody(db, migration, body!, label, before);
      if (!db.inTransaction) {
        throw new DataError('migration-ended-transaction', `${label} ended dbshift's transaction itself (COMMIT or ROLLBACK).`, {
          hint: 'Remove the COMMIT/ROLLBACK from the migration: dbshift commits it together with its bookkeeping.',
        });
      }
      // The last moment to stop: a Ctrl-C pressed during the migration is seen here, before COMMIT.
      // Twice: a signal is read in the loop's poll phase, and one turn may start after it.
      await yieldToEventLoop();
      await yieldToEventLoop();
      if (run.signal?.aborted) throw new InterruptedError('interrupted', `Interrupted during ${migrationLabel(step)}.`);
      writeVersion(db, { version: step.versionAfter, dirty: false });
      record(db);
      db.exec('COMMIT');
      return { step, status: 'applied', durationMs: performance.now() - started, ...verified };
    } catch (error) {
      const rollback = rollBack(db);
      if (error instanceof BusyError && error.code === 'version-moved') throw error;
      const state = readVersionSafely(db);
      if (rollback === undefined && state && !(state.dirty && state.version === step.versionAfter)) {
        throw asMigrationError(error, label, `It was rolled back: no changes were applied, the version stays ${state.version}.`);
      }
      const tool = asMigrationError(
        error,
        label,
        `Some of its statements were committed before it failed (it ended dbshift's transaction itself${rollback ? `, and the rollback failed: ${rollback}` : ''}): the database is marked dirty at version ${step.versionAfter}.`,
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
      throw asMigrationError(error, label, 'Nothing was changed.');
    }
    try {
      const verified = await runBody(db, migration, body!, label, { fk: foreignKeyViolations(db), counts: rowCounts(db) });
      if (db.inTransaction) {
        throw new DataError('migration-left-transaction-open', `${label} began a transaction and did not end it.`, { hint: 'End every BEGIN in the migration with COMMIT.' });
      }
      db.transaction(() => {
        writeVersion(db, { version: step.versionAfter, dirty: false });
        record(db);
      })();
      return { step, status: 'applied', durationMs: performance.now() - started, ...verified };
    } catch (error) {
      rollBack(db);
      const tool = asMigrationError(error, label, `It ran outside a transaction, so some of its statements may have taken effect: the database is marked dirty at version ${step.versionAfter}.`);
      tool.hint = dirtyHint(step.versionAfter);
      throw tool;
    }
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
