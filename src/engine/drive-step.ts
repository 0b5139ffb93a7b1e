import { BusyError, DataError, InternalError, InterruptedError, toToolError, type ToolError } from '../errors.js';
import type { Check } from '../plans/unit.js';
import { yieldToEventLoop } from '../yield.js';
import { migrationLabel } from './discover.js';
import type { Driver, DriverBody, DriverMigration, DriverSession } from './driver.js';
import type { MigrationStep } from './types.js';

// One migration, one direction, on any driver; the same promises execute.ts keeps for SQLite.
// In a transaction (the default) the migration, its checks and its bookkeeping commit together:
// a failure leaves no trace. Outside one (statements that cannot run in a transaction, the
// marker, a file with its own COMMIT) golang-migrate's protocol applies: dirty before, clean
// after, and a failure leaves the database dirty until `force`, with what the driver found
// left behind (an INVALID index) named in the error. Either way the version is re-read under
// the lock first, and no table may lose rows the migration did not declare it deletes.

export type RowCountChanges = Record<string, { before: number; after: number }>;

export interface DriverStepOutcome {
  status: 'applied';
  durationMs: number;
  checks: Check[];
  summary?: unknown;
  /** Tables whose row count changed: before and after. */
  rowCounts: RowCountChanges;
}

export interface DriverStepRun {
  /** The version the plan started this migration from; if the database is elsewhere now, another run moved it. */
  versionBefore: number;
  now: () => Date;
  signal?: AbortSignal;
}

function changedCounts(before: Record<string, number>, after: Record<string, number>): RowCountChanges {
  const changed: RowCountChanges = {};
  for (const [table, rows] of Object.entries(after)) if ((before[table] ?? 0) !== rows) changed[table] = { before: before[table] ?? 0, after: rows };
  return changed;
}

/** Tables that still exist but lost rows the migration did not declare (a dropped table is its stated intent). */
function assertNoRowsLost<Ctx>(label: string, body: DriverBody<Ctx>, before: Record<string, number>, after: Record<string, number>): void {
  const allowed = new Set((body.deletesRows ?? []).map((t) => t.toLowerCase()));
  const lost = Object.keys(before).filter((t) => !allowed.has(t.toLowerCase()) && after[t] !== undefined && after[t]! < before[t]!);
  if (lost.length === 0) return;
  const list = lost.map((t) => `${t} (${before[t]} -> ${after[t]})`).join(', ');
  throw new DataError('rows-lost', `${label} deletes rows it does not declare: ${list}.`, {
    hint: `If the deletion is meant, declare it in the migration (\`-- dbshift:deletes-rows ${lost[0]}\` in the SQL file, or \`export const deletesRows = ['${lost[0]}']\` in code) and run again. If not, look for a cascade (ON DELETE CASCADE, TRUNCATE … CASCADE).`,
  });
}

async function runBody<Ctx>(session: DriverSession<Ctx>, body: DriverBody<Ctx>, label: string): Promise<{ checks: Check[]; summary?: unknown; rowCounts: RowCountChanges }> {
  const before = await session.rowCounts();
  await body.run(session.ctx);
  const verified = (await body.verify?.(session.ctx)) ?? [];
  const { checks, summary } = Array.isArray(verified) ? { checks: verified, summary: undefined } : verified;
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new DataError('migration-verify-failed', `${label}: verify failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}.`);
  }
  await session.checkBeforeCommit?.();
  const after = await session.rowCounts();
  assertNoRowsLost(label, body, before, after);
  const rowCounts = changedCounts(before, after);
  return summary === undefined ? { checks, rowCounts } : { checks, summary, rowCounts };
}

/** Blame the migration, not dbshift, for what its own SQL or code threw; keep I/O and busy errors as they are. */
export function asMigrationError(error: unknown, label: string, dataState: string): ToolError {
  const tool = toToolError(error);
  const wrapped =
    tool instanceof InternalError
      ? new DataError('migration-failed', `${label} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
      : tool instanceof DataError && !tool.message.startsWith(label)
        ? new DataError(tool.code, `${label}: ${tool.message}`, { ...(tool.hint ? { hint: tool.hint } : {}), cause: error })
        : tool;
  wrapped.dataState = wrapped.dataState ?? dataState;
  return wrapped;
}

/** Under the lock: the plan was made from `expected`; if another run moved the version since, stop. */
async function assertVersionUnmoved<Ctx>(session: DriverSession<Ctx>, expected: number): Promise<void> {
  const now = await session.readVersion();
  if (now.version === expected && !now.dirty) return;
  throw new BusyError('version-moved', `The database moved to version ${now.version}${now.dirty ? ' (dirty)' : ''} while this run planned from version ${expected}: another run is migrating it.`, {
    hint: 'Let the other run finish, then run the same command again; it plans from the new version.',
    dataState: `This run changed nothing; the database is at version ${now.version}.`,
  });
}

function dirtyHint(version: number): string {
  return `Inspect the database, finish or undo the migration by hand, then run \`dbshift force ${version}\` (or the version below if you undid it), and \`dbshift up\` again.`;
}

export async function executeWithDriver<Ctx>(driver: Driver<Ctx>, migration: DriverMigration<Ctx>, step: MigrationStep, run: DriverStepRun): Promise<DriverStepOutcome> {
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
      const verified = await driver.transaction(async (session) => {
        await assertVersionUnmoved(session, run.versionBefore);
        // Dirty first, in the same transaction: should the migration commit on its own (a COMMIT
        // a driver could not stop), the mark is committed with it and the database tells the truth.
        await session.writeVersion({ version: step.versionAfter, dirty: true });
        const result = await runBody(session, body, label);
        // The last moment to stop: a Ctrl-C pressed during the migration is seen here, before COMMIT.
        await yieldToEventLoop();
        if (run.signal?.aborted) throw new InterruptedError('interrupted', `Interrupted during ${migrationLabel(step)}.`);
        await session.writeVersion({ version: step.versionAfter, dirty: false });
        await session.appendHistory(entry());
        return result;
      }, label);
      return { status: 'applied', durationMs: performance.now() - started, ...verified };
    } catch (error) {
      if (error instanceof BusyError && error.code === 'version-moved') throw error;
      const state = await driver.readVersion().catch(() => undefined);
      if (!state?.dirty || state.version !== step.versionAfter) {
        throw asMigrationError(error, label, `It was rolled back: no changes were applied, the version stays ${state?.version ?? run.versionBefore}.`);
      }
      const tool = asMigrationError(error, label, '');
      tool.dataState = `Some of its statements were committed before it failed (it ended the transaction itself): the database is marked dirty at version ${step.versionAfter}.`;
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
    throw asMigrationError(error, label, 'Nothing was changed.');
  }
  let verified: Awaited<ReturnType<typeof runBody>>;
  try {
    verified = await driver.autocommit((session) => runBody(session, body, label), label);
  } catch (error) {
    const why = body.noTransactionReasons?.length ? ` (${body.noTransactionReasons.join('; ')})` : '';
    const tool = asMigrationError(error, label, `It ran outside a transaction${why}, so some of its statements may have taken effect: the database is marked dirty at version ${step.versionAfter}.`);
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
  return { status: 'applied', durationMs: performance.now() - started, ...verified };
}
