import { InterruptedError, toToolError, type ToolError } from '../errors.js';
import type { Check } from '../plans/unit.js';
import { migrationLabel } from './discover.js';
import { executeStep } from './execute.js';
import { backupProgress, migrationProgress } from './progress.js';
import { lintMigrations, type LintFinding } from './lint.js';
import { assertClean, assertConsistent, assertRunnable, consistencyProblems, planSteps, type Target } from './plan.js';
import { backupDatabase, errorReport, missingDatabase, withLockedDatabase, withReadonlyDatabase, type EngineConfig, type EngineOptions, type ErrorReport } from './session.js';
import { readHistory, readVersion } from './state.js';
import type { MigrationSet, VersionState } from './types.js';

// up, down, goto (and Alembic's upgrade/downgrade): plan purely, back up, then run the plan
// one migration at a time. Like Kysely's MigrationResultSet, every planned migration is in the
// result, as applied, failed or not-run (or planned, for --dry-run).

export interface StepReport {
  version: number;
  name: string;
  direction: 'up' | 'down';
  status: 'planned' | 'applied' | 'failed' | 'not-run';
  durationMs: number;
  /** The SQL that runs (SQL migrations), for --dry-run and the record. */
  sql?: string;
  transactional: boolean;
  checks?: Check[];
  /** Built-in units: the same summary `dbshift migrate` reports. */
  summary?: unknown;
  /** Why it runs the way it does, when the file decided (its own BEGIN/COMMIT). */
  note?: string;
  /** Tables whose row count the migration changed. */
  rowCounts?: Record<string, { before: number; after: number }>;
}

export interface VersionsResult {
  ok: boolean;
  command: string;
  database: string;
  migrations: string;
  dryRun: boolean;
  before?: VersionState;
  after?: VersionState;
  steps: StepReport[];
  backup: { path: string; sha256: string } | null;
  warnings: LintFinding[];
  notices: string[];
  error?: ErrorReport;
}

export interface VersionsOptions extends EngineOptions {
  dryRun?: boolean;
  /** Take a backup before changing anything (default true). */
  backup?: boolean;
  /** Create the database file if it does not exist (a brand-new schema). */
  create?: boolean;
}

export async function runVersions(config: EngineConfig, set: MigrationSet, target: Target, command: string, options: VersionsOptions = {}): Promise<VersionsResult> {
  const now = options.now ?? (() => new Date());
  const result: VersionsResult = {
    ok: false,
    command,
    database: config.database,
    migrations: set.source,
    dryRun: !!options.dryRun,
    steps: [],
    backup: null,
    warnings: [],
    notices: [],
  };
  const byVersion = new Map(set.migrations.map((m) => [m.version, m]));

  const plan = (state: VersionState, history: ReturnType<typeof readHistory>) => {
    result.before = state;
    assertClean(state);
    assertConsistent(consistencyProblems(set.migrations, state, history));
    const steps = planSteps(set.migrations, state, target);
    assertRunnable(set.migrations, steps);
    result.steps = steps.map((s) => {
      const body = byVersion.get(s.version)![s.direction]!;
      return { ...s, status: 'planned' as const, durationMs: 0, transactional: body.transactional, ...(body.sql !== undefined ? { sql: body.sql } : {}), ...(body.note ? { note: body.note } : {}) };
    });
    const pendingUp = new Set(steps.filter((s) => s.direction === 'up').map((s) => s.version));
    if (pendingUp.size > 0) result.warnings = lintMigrations(set, pendingUp);
    return steps;
  };

  try {
    if (options.dryRun) {
      withReadonlyDatabase(config, (db) => {
        if (!db && !options.create) throw missingDatabase(config.database);
        plan(db ? readVersion(db) : { version: 0, dirty: false }, db ? readHistory(db) : []);
      });
      result.after = result.before;
      result.ok = true;
      return result;
    }
    await withLockedDatabase(config, command, options, async ({ db, open, notices, created }) => {
      result.notices.push(...notices);
      const steps = plan(readVersion(db), readHistory(db));
      if (steps.length === 0) {
        result.notices.push(`No change: the database is at version ${result.before!.version}.`);
        result.after = result.before;
        return;
      }
      // A module that cannot be loaded is refused before the backup and before any change.
      for (const step of steps) await byVersion.get(step.version)![step.direction]!.load?.();
      // A file this run created empty holds nothing to keep: no backup of it (apps starting on a new database).
      if (options.backup !== false && !created) {
        const backedUp = backupProgress(options.onProgress, config.database);
        result.backup = await backupDatabase(db, config, now(), options.signal);
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
          const outcome = await executeStep(byVersion.get(step.version)!, step, { open, versionBefore: version, now, ...(options.signal ? { signal: options.signal } : {}) });
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
  if (!result.after) {
    try {
      result.after = withReadonlyDatabase(config, (db) => (db ? readVersion(db) : { version: 0, dirty: false }));
    } catch {
      // The result still says what failed; the version is unknown.
    }
  }
  return result;
}
