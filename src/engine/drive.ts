import { InputError, InterruptedError, toToolError, type ToolError } from '../errors.js';
import { migrationLabel } from './discover.js';
import { executeWithDriver } from './drive-step.js';
import type { ProgressListener } from '../progress.js';
import { backupProgress, migrationProgress } from './progress.js';
import type { BackupRef, Driver, DriverMigrationSet } from './driver.js';
import { assertClean, assertConsistent, assertRunnable, consistencyProblems, planSteps, type Target } from './plan.js';
import { errorReport, type ErrorReport } from './session.js';
import { describeStatus, type StatusResult } from './status.js';
import { judgeValidation, type ValidateOptions, type ValidateResult } from './validate.js';
import type { VersionsResult } from './versions.js';
import type { HistoryEntry, MigrationStep, VersionState } from './types.js';

// up, down, goto (and Alembic's upgrade/downgrade), force and status on any driver: plan purely
// (plan.ts), lock, back up, then run the plan one migration at a time (drive-step.ts). Every
// planned migration is in the result, as applied, failed or not-run (or planned, for --dry-run),
// with each table's row count before and after.

export interface DriverRunOptions {
  now?: () => Date;
  signal?: AbortSignal;
  /** The backup and each migration, as they start and end (src/progress.ts). */
  onProgress?: ProgressListener;
  dryRun?: boolean;
  /** Take a backup into backupDir before changing anything (default true). */
  backup?: boolean;
  backupDir: string;
  /** Wait for another runner's lock (bounded by waitMs) instead of exiting 75. */
  wait?: boolean;
  waitMs?: number;
}

export type TableCounts = Record<string, { before: number | null; after: number | null }>;

export interface DriverVersionsResult extends Omit<VersionsResult, 'backup'> {
  backup: BackupRef | null;
  /** Rows per table before the run and after it (null: the table did not exist). */
  counts: TableCounts;
}

function countsOf(before: Record<string, number>, after: Record<string, number>): TableCounts {
  const counts: TableCounts = {};
  for (const table of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    counts[table] = { before: before[table] ?? null, after: after[table] ?? null };
  }
  return counts;
}

/** Take the driver's lock, run `fn`, always release it. */
async function locked<T>(driver: Driver<unknown>, options: { wait?: boolean; waitMs?: number; signal?: AbortSignal }, fn: () => Promise<T>): Promise<T> {
  await driver.lock({ wait: !!options.wait, waitMs: options.waitMs ?? 60_000, ...(options.signal ? { signal: options.signal } : {}) });
  try {
    return await fn();
  } finally {
    await driver.unlock();
  }
}

export async function runVersionsWithDriver<Ctx>(driver: Driver<Ctx>, set: DriverMigrationSet<Ctx>, target: Target, command: string, options: DriverRunOptions): Promise<DriverVersionsResult> {
  const now = options.now ?? (() => new Date());
  const result: DriverVersionsResult = {
    ok: false,
    command,
    database: driver.location,
    migrations: set.source,
    dryRun: !!options.dryRun,
    steps: [],
    backup: null,
    warnings: [],
    notices: [],
    counts: {},
  };
  const byVersion = new Map(set.migrations.map((m) => [m.version, m]));

  const plan = async (): Promise<MigrationStep[]> => {
    const state = await driver.readVersion();
    result.before = state;
    assertClean(state);
    assertConsistent(consistencyProblems(set.migrations, state, await driver.readHistory()));
    const steps = planSteps(set.migrations, state, target);
    assertRunnable(set.migrations, steps);
    result.steps = steps.map((s) => {
      const body = byVersion.get(s.version)![s.direction]!;
      return { ...s, status: 'planned' as const, durationMs: 0, transactional: body.transactional, ...(body.sql !== undefined ? { sql: body.sql } : {}), ...(body.note ? { note: body.note } : {}) };
    });
    const pendingUp = new Set(steps.filter((s) => s.direction === 'up').map((s) => s.version));
    if (pendingUp.size > 0 && driver.lint) result.warnings = await driver.lint(set, pendingUp);
    return steps;
  };

  let countsBefore: Record<string, number> | undefined;
  try {
    if (options.dryRun) {
      await plan();
      result.after = result.before;
      result.ok = true;
      return result;
    }
    await locked(driver, options, async () => {
      // Read under the lock: another runner may have moved the version while we waited.
      const steps = await plan();
      if (steps.length === 0) {
        result.notices.push(`No change: the database is at version ${result.before!.version}.`);
        result.after = result.before;
        return;
      }
      // A module that cannot be loaded is refused before the backup and before any change.
      for (const step of steps) await byVersion.get(step.version)![step.direction]!.load?.();
      countsBefore = await driver.rowCounts();
      if (options.backup !== false) {
        const backedUp = backupProgress(options.onProgress, driver.location);
        result.backup = await driver.backup(options.backupDir, now(), options.signal);
        backedUp(result.backup.path);
      }
      let version = result.before!.version;
      for (const [i, step] of steps.entries()) {
        const report = result.steps[i]!;
        if (options.signal?.aborted) {
          throw new InterruptedError('interrupted', `Interrupted before ${migrationLabel(step)}.`, { dataState: `Migrations before it are applied; the database is at version ${version}.` });
        }
        const progress = migrationProgress(options.onProgress, step, i, steps.length, report.transactional);
        try {
          const outcome = await executeWithDriver(driver, byVersion.get(step.version)!, step, { versionBefore: version, now, ...(options.signal ? { signal: options.signal } : {}) });
          report.status = 'applied';
          report.durationMs = Math.round(outcome.durationMs);
          if (outcome.checks.length > 0) report.checks = outcome.checks;
          if (Object.keys(outcome.rowCounts).length > 0) report.rowCounts = outcome.rowCounts;
          if (outcome.summary !== undefined) report.summary = outcome.summary;
          version = step.versionAfter;
          progress.ok(report.durationMs);
        } catch (error) {
          report.status = 'failed';
          progress.failed(error);
          throw error;
        } finally {
          for (const later of result.steps.slice(i + 1)) if (later.status === 'planned') later.status = 'not-run';
        }
      }
    });
    result.ok = true;
  } catch (error) {
    const tool: ToolError = toToolError(error);
    if (result.backup) tool.dataState = `${tool.dataState ?? ''} The backup ${result.backup.path} was taken before any change.`.trim();
    result.error = errorReport(tool);
  }
  try {
    if (!result.after) result.after = await driver.readVersion();
    if (countsBefore) result.counts = countsOf(countsBefore, await driver.rowCounts());
  } catch {
    // The result still says what failed; the version or the counts are unknown.
  }
  return result;
}

export interface DriverForceResult {
  ok: boolean;
  command: 'force';
  database: string;
  before?: VersionState;
  after?: VersionState;
  error?: ErrorReport;
}

/** golang-migrate's `force V`: record V as clean after a human finished or undid a failed migration. */
export async function forceWithDriver<Ctx>(driver: Driver<Ctx>, set: DriverMigrationSet<Ctx>, version: number, options: Pick<DriverRunOptions, 'now' | 'wait' | 'waitMs' | 'signal'> = {}): Promise<DriverForceResult> {
  const now = options.now ?? (() => new Date());
  const result: DriverForceResult = { ok: false, command: 'force', database: driver.location };
  try {
    const migration = set.migrations.find((m) => m.version === version);
    if (!Number.isInteger(version) || version < 0 || (version !== 0 && !migration)) {
      throw new InputError('unknown-version', `There is no migration with version ${version} to force.`, {
        hint: 'Force a version that exists (see `dbshift history`), or 0 for "nothing applied".',
        dataState: 'Nothing was changed.',
      });
    }
    await locked(driver, options, async () => {
      result.before = await driver.readVersion();
      const entry: HistoryEntry = { version, name: migration?.name ?? 'base', direction: 'force', checksum: migration?.checksum ?? null, appliedAt: now().toISOString(), durationMs: 0 };
      await driver.setVersion({ version, dirty: false }, entry);
      result.after = await driver.readVersion();
    });
    result.ok = true;
  } catch (error) {
    result.error = errorReport(error);
  }
  return result;
}

/** `version` / `history` on any driver: read-only, no lock. */
export async function statusWithDriver<Ctx>(driver: Driver<Ctx>, set: DriverMigrationSet<Ctx> | undefined, command: string): Promise<StatusResult> {
  const result: StatusResult = { ok: false, command, database: driver.location, migrations: set?.source ?? '', migrationsStatus: [], history: [], problems: [] };
  try {
    describeStatus(result, set, await driver.readVersion(), await driver.readHistory());
    result.ok = true;
  } catch (error) {
    result.error = errorReport(error);
  }
  return result;
}

/** `validate` on any driver: its version and history, the driver's lint, the same judgement as on SQLite. */
export async function validateWithDriver<Ctx>(driver: Driver<Ctx>, set: DriverMigrationSet<Ctx>, options: ValidateOptions = {}): Promise<ValidateResult> {
  const result: ValidateResult = { ok: false, command: 'validate', database: driver.location, migrations: set.source, count: set.migrations.length, errors: [], warnings: [] };
  try {
    const found = { state: await driver.readVersion(), history: await driver.readHistory() };
    judgeValidation(result, set, found, (await driver.lint?.(set)) ?? [], options);
  } catch (error) {
    result.error = errorReport(error);
  }
  return result;
}
