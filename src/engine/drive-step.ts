import { DataError, InternalError, toToolError, type ToolError } from '../errors.js';
import type { Check } from '../plans/unit.js';
import { migrationLabel } from './discover.js';
import type { Driver, DriverBody, DriverMigration, DriverSession } from './driver.js';
import type { MigrationStep } from './types.js';

// One migration, one direction, on any driver. In a transaction (the default) the migration,
// its checks and its bookkeeping commit together: a failure leaves no trace, not even a dirty
// flag. Outside one (statements that cannot run in a transaction, or the marker),
// golang-migrate's protocol applies: dirty before, clean after, and a failure leaves the
// database dirty until `force`, with what the driver found left behind named in the error.

export interface DriverStepOutcome {
  status: 'applied';
  durationMs: number;
  checks: Check[];
  summary?: unknown;
}

async function runBody<Ctx>(session: DriverSession<Ctx>, body: DriverBody<Ctx>, label: string): Promise<{ checks: Check[]; summary?: unknown }> {
  await body.run(session.ctx);
  const verified = (await body.verify?.(session.ctx)) ?? [];
  const { checks, summary } = Array.isArray(verified) ? { checks: verified, summary: undefined } : verified;
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new DataError('migration-verify-failed', `${label}: verify failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}.`);
  }
  await session.checkBeforeCommit?.();
  return summary === undefined ? { checks } : { checks, summary };
}

/** Blame the migration, not dbshift, for what its own SQL or code threw; keep I/O and busy errors as they are. */
export function asMigrationError(error: unknown, label: string, dataState: string): ToolError {
  const tool = toToolError(error);
  const wrapped =
    tool instanceof InternalError
      ? new DataError('migration-failed', `${label} failed: ${(error as Error).message ?? String(error)}`, { cause: error })
      : tool instanceof DataError && !tool.message.startsWith(label)
        ? new DataError(tool.code, `${label}: ${tool.message}`, { ...(tool.hint ? { hint: tool.hint } : {}), cause: error })
        : tool;
  wrapped.dataState = wrapped.dataState ?? dataState;
  return wrapped;
}

export async function executeWithDriver<Ctx>(driver: Driver<Ctx>, migration: DriverMigration<Ctx>, step: MigrationStep, versionBefore: number, now: () => Date): Promise<DriverStepOutcome> {
  const body = migration[step.direction];
  if (!body) throw new InternalError('no-body', `${migrationLabel(step)} has no ${step.direction} migration.`);
  const label = `Migration ${migrationLabel(step)} (${step.direction})`;
  const started = performance.now();
  const entry = () => ({
    version: step.version,
    name: step.name,
    direction: step.direction,
    checksum: migration.checksum,
    appliedAt: now().toISOString(),
    durationMs: performance.now() - started,
  });

  if (body.transactional) {
    try {
      const verified = await driver.transaction(async (session) => {
        const result = await runBody(session, body, label);
        await session.writeVersion({ version: step.versionAfter, dirty: false });
        await session.appendHistory(entry());
        return result;
      }, label);
      return { status: 'applied', durationMs: performance.now() - started, ...verified };
    } catch (error) {
      throw asMigrationError(error, label, `It was rolled back: no changes were applied, the version stays ${versionBefore}.`);
    }
  }

  await driver.setVersion({ version: step.versionAfter, dirty: true });
  let verified: { checks: Check[]; summary?: unknown };
  try {
    verified = await driver.autocommit((session) => runBody(session, body, label), label);
  } catch (error) {
    const why = body.noTransactionReasons?.length ? ` (${body.noTransactionReasons.join('; ')})` : '';
    const tool = asMigrationError(
      error,
      label,
      `It ran outside a transaction${why}, so some of its statements may have taken effect: the database is marked dirty at version ${step.versionAfter}.`,
    );
    const left = await driver.inspectFailure?.(error).catch(() => undefined);
    if (left?.untouched) {
      await driver.setVersion({ version: versionBefore, dirty: false });
      tool.dataState = `Nothing was changed: the version stays ${versionBefore}, not dirty.`;
      if (left.message) tool.message = `${tool.message} ${left.message}`;
      if (left.hint) tool.hint = left.hint;
      throw tool;
    }
    if (left) tool.message = `${tool.message} ${left.message}`;
    tool.hint = `${left ? `${left.hint} ` : ''}Inspect the database, finish or undo the migration by hand, then run \`dbshift force ${step.versionAfter}\` (or the version below if you undid it), and \`dbshift up\` again.`;
    throw tool;
  }
  await driver.setVersion({ version: step.versionAfter, dirty: false }, entry());
  return { status: 'applied', durationMs: performance.now() - started, ...verified };
}
