import { DataError, InternalError, toToolError, type ToolError } from '../errors.js';
import { foreignKeyViolations, newForeignKeyViolations, type ForeignKeyViolation } from '../sqlite/checks.js';
import type { Db } from '../sqlite/open.js';
import type { Check } from '../plans/unit.js';
import { migrationLabel } from './discover.js';
import { rebuildTable } from './rebuild.js';
import { appendHistory, ensureStateTables, writeVersion } from './state.js';
import type { MigrationBody, MigrationContext, MigrationDefinition, MigrationStep } from './types.js';

// One migration, one direction. In a transaction (the default) the migration, its checks and
// its bookkeeping commit together: a failure leaves no trace, not even a dirty flag. Outside
// one (`-- dbshift:no-transaction`) golang-migrate's protocol applies: dirty before, clean
// after, and a failure leaves the database dirty until `force`.
//
// Foreign keys are off on the engine's connection (set before any BEGIN: the pragma is a no-op
// inside a transaction), so that a table rebuild cannot cascade-delete child rows. Instead,
// foreign_key_check runs before every commit and any violation the migration introduced rolls
// it back.

export interface StepOutcome {
  step: MigrationStep;
  status: 'applied' | 'failed' | 'not-run';
  durationMs: number;
  checks: Check[];
  summary?: unknown;
}

/** What a migration's up/down/verify receive; lint's in-memory replay uses the same. */
export function contextFor(db: Db): MigrationContext {
  return { db, exec: (sql) => db.exec(sql), rebuildTable: (table, change) => rebuildTable(db, table, change) };
}

async function runBody(db: Db, body: MigrationBody, label: string, fkBefore: ForeignKeyViolation[]): Promise<{ checks: Check[]; summary?: unknown }> {
  const ctx = contextFor(db);
  await body.run(ctx);
  const verified = body.verify?.(ctx) ?? [];
  const { checks, summary } = Array.isArray(verified) ? { checks: verified, summary: undefined } : verified;
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new DataError('migration-verify-failed', `${label}: verify failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}.`);
  }
  const fresh = newForeignKeyViolations(fkBefore, foreignKeyViolations(db));
  if (fresh.length > 0) {
    const sample = fresh.slice(0, 5).map((v) => `${v.table} rowid ${v.rowid} → ${v.parent}`).join(', ');
    throw new DataError('foreign-key-violation', `${label} leaves ${fresh.length} rows pointing at missing parents (${sample}).`, {
      hint: 'Foreign keys are off while migrations run so rebuilds cannot cascade; delete or fix child rows explicitly in the migration.',
    });
  }
  return summary === undefined ? { checks } : { checks, summary };
}

/** Blame the migration, not dbshift, for what its own SQL or code threw; keep I/O and busy errors as they are. */
function asMigrationError(error: unknown, label: string, dataState: string): ToolError {
  const tool = toToolError(error);
  const wrapped =
    tool instanceof InternalError
      ? new DataError('migration-failed', `${label} failed: ${(error as Error).message ?? String(error)}`, { cause: error })
      : tool instanceof DataError && !tool.message.startsWith(label)
        ? new DataError(tool.code, `${label}: ${tool.message}`, { ...(tool.hint ? { hint: tool.hint } : {}), cause: error })
        : tool;
  wrapped.dataState = dataState;
  return wrapped;
}

export async function executeStep(db: Db, migration: MigrationDefinition, step: MigrationStep, versionBefore: number, now: () => Date): Promise<StepOutcome> {
  const body = migration[step.direction];
  if (!body) throw new InternalError('no-body', `${migrationLabel(step)} has no ${step.direction} migration.`);
  const label = `Migration ${migrationLabel(step)} (${step.direction})`;
  const started = performance.now();
  const fkBefore = foreignKeyViolations(db);
  const record = () =>
    appendHistory(db, {
      version: step.version,
      name: step.name,
      direction: step.direction,
      checksum: migration.checksum,
      appliedAt: now().toISOString(),
      durationMs: performance.now() - started,
    });

  if (body.transactional) {
    db.exec('BEGIN IMMEDIATE');
    try {
      ensureStateTables(db);
      const verified = await runBody(db, body, label, fkBefore);
      writeVersion(db, { version: step.versionAfter, dirty: false });
      record();
      db.exec('COMMIT');
      return { step, status: 'applied', durationMs: performance.now() - started, ...verified };
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw asMigrationError(error, label, `It was rolled back: no changes were applied, the version stays ${versionBefore}.`);
    }
  }

  ensureStateTables(db);
  writeVersion(db, { version: step.versionAfter, dirty: true });
  try {
    const verified = await runBody(db, body, label, fkBefore);
    db.transaction(() => {
      writeVersion(db, { version: step.versionAfter, dirty: false });
      record();
    })();
    return { step, status: 'applied', durationMs: performance.now() - started, ...verified };
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    const tool = asMigrationError(error, label, `It ran outside a transaction (dbshift:no-transaction), so some of its statements may have taken effect: the database is marked dirty at version ${step.versionAfter}.`);
    tool.hint = `Inspect the database, finish or undo the migration by hand, then run \`dbshift force ${step.versionAfter}\` (or the version below if you undid it), and \`dbshift up\` again.`;
    throw tool;
  }
}
