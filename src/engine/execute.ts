import { BusyError, DataError, InternalError, InterruptedError, ToolError, toToolError } from '../errors.js';
import type { Check } from '../results.js';
import { yieldToEventLoop } from '../yield.js';
import { migrationLabel } from './discover.js';
import { EscapedTransaction, type Driver, type DriverSession, type RowCount, type TableChange } from './driver.js';
import { rowsLostError } from './row-loss.js';
import type { MigrationBody, MigrationDefinition, MigrationStep, VersionState } from './types.js';

// One migration, one direction, on any driver (SQLite, PostgreSQL). In a transaction (the
// default) the migration, its checks and its bookkeeping commit together: a failure leaves no
// trace. Outside one (statements that cannot run in a transaction, `-- dbshift:no-transaction`,
// a file that runs its own COMMIT) golang-migrate's protocol applies: dirty before, clean after,
// and a failure leaves the database dirty until `force`, with what the driver found left behind
// (an INVALID index) named in the error.
//
// Either way the version is re-read under the lock first (another run may have moved it), the
// driver's own checks run before commit (SQLite: no new foreign_key_check violation), and no
// table may lose rows the migration did not declare it deletes: the backstop against a cascade
// nobody asked for. The driver finds what the migration touched (docs/safety.md, "The row-loss
// backstop"); a table it never wrote is never counted.

export type RowCountChanges = Record<string, RowCount>;

/** A table's counts alone (a TableChange also names the table). */
export function rowCountOf(change: RowCount): RowCount {
  return { before: change.before, after: change.after, ...(change.added !== undefined ? { added: change.added } : {}) };
}

export interface StepOutcome {
  status: 'applied';
  durationMs: number;
  checks: Check[];
  summary?: unknown;
  /** Tables whose row count changed: before and after (null: created, dropped). */
  rowCounts: RowCountChanges;
  /** The same, as the driver found them (renames included): the run's before/after picture, without counting again. */
  tableChanges: TableChange[];
}

export interface StepRun {
  /** The version the plan started this migration from; if the database is elsewhere now, another run moved it. */
  versionBefore: number;
  now: () => Date;
  signal?: AbortSignal;
}

type Verified = { checks: Check[]; summary?: unknown };

/** The driver found tables that lost rows the migration did not declare it deletes: refuse the commit. */
function assertNoRowsLost(label: string, lost: TableChange[]): void {
  if (lost.length > 0) throw rowsLostError(label, lost);
}

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => value instanceof Promise;

/** How long a cancelled migration's promise may take to settle before the run abandons it. */
const ABANDON_GRACE_MS = 2000;

/**
 * The migration's promise, unless the run is cancelled first: a migration that never settles
 * (an await on nothing, a statement that ignores the server's cancel) must not hold the run, its
 * transaction and its locks for ever. The driver then rolls back (ending the session on the
 * server if a statement will not stop); the migration's code is revoked from the connection.
 */
function unlessAborted<T>(work: Promise<T>, label: string, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  // Whatever the abandoned promise does later must not become an unhandled rejection (exit 1).
  work.catch(() => undefined);
  const interrupted = () => new InterruptedError('interrupted', `Interrupted during ${label}: its code had not finished, and was abandoned.`);
  if (signal.aborted) return Promise.reject(interrupted());
  return new Promise<T>((resolve, reject) => {
    // The driver cancels a running statement on abort, and a migration that lets the error
    // through settles within the grace, with the driver's own account of what was cancelled.
    let abandon: NodeJS.Timeout | undefined;
    const onAbort = () => (abandon = setTimeout(() => reject(interrupted()), ABANDON_GRACE_MS));
    const settled = () => (signal.removeEventListener('abort', onAbort), clearTimeout(abandon));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => (settled(), resolve(value)),
      (error: unknown) => (settled(), reject(error)),
    );
  });
}

/**
 * The migration itself and its own verify(); then its code may no longer reach the connection.
 * A synchronous migration is not awaited: a promise continuation it queued must find the
 * context revoked, not run first and reach the connection.
 */
async function runMigration<Ctx>(session: DriverSession<Ctx>, body: MigrationBody<Ctx>, label: string, signal?: AbortSignal): Promise<Verified> {
  try {
    const ran = body.run(session.ctx);
    if (isPromise(ran)) await unlessAborted(ran, label, signal);
    const returned = body.verify?.(session.ctx);
    const verified = (isPromise(returned) ? await unlessAborted(returned, label, signal) : returned) ?? [];
    return Array.isArray(verified) ? { checks: verified } : verified;
  } finally {
    session.revokeContext?.();
  }
}

/** What must hold before COMMIT: the migration's own checks, the driver's, no undeclared row loss. */
async function assertSafeToCommit<Ctx>(session: DriverSession<Ctx>, body: MigrationBody<Ctx>, label: string, verified: Verified): Promise<Pick<StepOutcome, 'rowCounts' | 'tableChanges'>> {
  const failed = verified.checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new DataError('migration-verify-failed', `${label}: verify failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}.`);
  }
  await session.checkBeforeCommit?.();
  const { changed, lost } = await session.rowChanges(body.deletesRows ?? []);
  assertNoRowsLost(label, lost);
  return { rowCounts: Object.fromEntries(changed.map((t) => [t.name, rowCountOf(t)])), tableChanges: changed };
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
 * Blame the migration, not dbshift, for what its own SQL or code threw. The database's errors
 * keep their meaning (a full disk is 74, a lock 75); anything else a migration throws (an Error
 * with an errno-like code, an AbortError, a plain object) is the migration's failure, 65. The
 * data state is the runner's to tell (it knows whether the rollback is proven), except for a
 * lock the driver gave up on, whose own account is the more exact one.
 */
function asMigrationError<Ctx>(driver: Driver<Ctx>, error: unknown, label: string, dataState: string): ToolError {
  const ours = error instanceof ToolError || driver.raisedByDatabase(error);
  const tool = ours ? toToolError(error) : new InternalError('migration-threw', describeThrown(error));
  const wrapped =
    tool instanceof InternalError
      ? new DataError('migration-failed', `${label} failed: ${describeThrown(error)}`, { cause: error })
      : tool instanceof DataError && !tool.message.startsWith(label)
        ? new DataError(tool.code, `${label}: ${tool.message}`, { ...(tool.hint ? { hint: tool.hint } : {}), cause: error })
        : tool;
  wrapped.dataState = wrapped instanceof BusyError && wrapped.dataState ? wrapped.dataState : dataState;
  return wrapped;
}

/** Under the lock: the plan was made from `expected`; if another run moved the version since, stop. */
async function assertVersionUnmoved<Ctx>(session: DriverSession<Ctx>, expected: number, read?: VersionState): Promise<void> {
  const now = read ?? (await session.readVersion());
  if (now.version === expected && !now.dirty) return;
  throw new BusyError('version-moved', `The database moved to version ${now.version}${now.dirty ? ' (dirty)' : ''} while this run planned from version ${expected}: another run is migrating it.`, {
    hint: 'Let the other run finish, then run the same command again; it plans from the new version.',
    dataState: `This run changed nothing; the database is at version ${now.version}.`,
  });
}

function dirtyHint(version: number): string {
  return `Inspect the database, finish or undo the migration by hand, then run \`dbshift force ${version}\` (or the version below if you undid it), and \`dbshift up\` again.`;
}

const isVersionMoved = (error: unknown) => error instanceof BusyError && error.code === 'version-moved';

export async function executeStep<Ctx>(driver: Driver<Ctx>, migration: MigrationDefinition<Ctx>, step: MigrationStep, run: StepRun): Promise<StepOutcome> {
  const body = migration[step.direction];
  if (!body) throw new InternalError('no-body', `${migrationLabel(step)} has no ${step.direction} migration.`);
  const label = `Migration ${migrationLabel(step)} (${step.direction})`;
  const started = performance.now();
  const entry = () => ({
    version: step.version,
    name: step.name,
    direction: step.direction,
    checksum: migration.checksum,
    appliedAt: run.now().toISOString(),
    durationMs: performance.now() - started,
  });

  if (body.transactional) {
    try {
      const outcome = await driver.transaction(async (session) => {
        // Dirty first, in the same transaction: should the migration commit on its own (a COMMIT
        // the driver could not stop), the mark is committed with it and the database tells the truth.
        const mark = { version: step.versionAfter, dirty: true };
        if (session.startMigration) {
          // One round trip: the version as it was, the watch, the mark (rolled back if the version moved).
          await assertVersionUnmoved(session, run.versionBefore, await session.startMigration(body.deletesRows ?? [], mark));
        } else {
          await assertVersionUnmoved(session, run.versionBefore);
          await session.watchRows(body.deletesRows ?? []);
          await session.writeVersion(mark);
        }
        const verified = await runMigration(session, body, label, run.signal);
        // Ctrl-C is seen here (twice: a signal is read in the loop's poll phase, and one turn may
        // start after it). Whatever the migration scheduled has run by now too (against a revoked
        // context), so the checks below see the database as it will commit.
        await yieldToEventLoop();
        await yieldToEventLoop();
        if (run.signal?.aborted) throw new InterruptedError('interrupted', `Interrupted during ${migrationLabel(step)}.`);
        const rows = await assertSafeToCommit(session, body, label, verified);
        const clean = { version: step.versionAfter, dirty: false };
        if (session.finishMigration) await session.finishMigration(clean, entry());
        else {
          await session.writeVersion(clean);
          await session.appendHistory(entry());
        }
        return { ...verified, ...rows };
      }, label);
      return { status: 'applied', durationMs: performance.now() - started, ...outcome };
    } catch (error) {
      const escaped = error instanceof EscapedTransaction ? error : undefined;
      const cause = escaped ? escaped.cause : error;
      if (isVersionMoved(cause)) throw cause;
      const state = await driver.readVersion().catch(() => undefined);
      const markSurvived = state?.dirty === true && state.version === step.versionAfter;
      if (!escaped && !markSurvived) {
        throw asMigrationError(driver, cause, label, `It was rolled back: no changes were applied, the version stays ${state?.version ?? run.versionBefore}.`);
      }
      // What the migration did after ending the transaction is committed, or unknown: the
      // database says so (the driver marked it dirty), whether or not the mark survived.
      const how = escaped ? `it ended dbshift's transaction itself${escaped.rollbackFailure ? `, and the rollback failed: ${escaped.rollbackFailure}` : ''}` : 'it ended the transaction itself';
      const tool = asMigrationError(driver, cause, label, `Some of its statements may have been committed (${how}): ${escaped?.markingFailure ?? `the database is marked dirty at version ${step.versionAfter}`}.`);
      tool.hint = dirtyHint(step.versionAfter);
      throw tool;
    }
  }

  // Check and mark in one transaction under the lock: no other run can slip in between.
  try {
    await driver.transaction(async (session) => {
      await assertVersionUnmoved(session, run.versionBefore);
      await session.writeVersion({ version: step.versionAfter, dirty: true });
    }, label);
  } catch (error) {
    if (error instanceof BusyError) throw error;
    throw asMigrationError(driver, error, label, 'Nothing was changed.');
  }
  let outcome: Verified & Pick<StepOutcome, 'rowCounts' | 'tableChanges'>;
  try {
    outcome = await driver.autocommit(async (session) => {
      await session.watchRows(body.deletesRows ?? []);
      const verified = await runMigration(session, body, label, run.signal);
      await yieldToEventLoop();
      return { ...verified, ...(await assertSafeToCommit(session, body, label, verified)) };
    }, label);
  } catch (error) {
    const why = body.noTransactionReasons?.length ? ` (${body.noTransactionReasons.join('; ')})` : '';
    const tool = asMigrationError(driver, error, label, `It ran outside a transaction${why}, so some of its statements may have taken effect: the database is marked dirty at version ${step.versionAfter}.`);
    const left = await driver.inspectFailure?.(error).catch(() => undefined);
    if (left?.untouched) {
      await driver.setVersion({ version: run.versionBefore, dirty: false });
      tool.dataState = `Nothing was changed: the version stays ${run.versionBefore}, not dirty.`;
      if (left.message) tool.message = `${tool.message} ${left.message}`;
      if (left.hint) tool.hint = left.hint;
      throw tool;
    }
    if (left) tool.message = `${tool.message} ${left.message}`;
    tool.hint = `${left ? `${left.hint} ` : ''}${dirtyHint(step.versionAfter)}`;
    throw tool;
  }
  await driver.setVersion({ version: step.versionAfter, dirty: false }, entry());
  return { status: 'applied', durationMs: performance.now() - started, ...outcome };
}
