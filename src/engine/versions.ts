import { InterruptedError, toToolError, type ToolError } from '../errors.js';
import type { ProgressListener } from '../progress.js';
import { resultError, type Check, type ResultError } from '../results.js';
import { migrationLabel } from './discover.js';
import type { BackupRef, Driver, RowCount, TableChange } from './driver.js';
import { executeStep, rowCountOf } from './execute.js';
import type { LintFinding } from './lint.js';
import { assertClean, assertConsistent, assertRunnable, consistencyProblems, planSteps, type Target } from './plan.js';
import { backupProgress, migrationProgress } from './progress.js';
import { yieldToEventLoop } from '../yield.js';
import type { MigrationSet, MigrationStep, VersionState } from './types.js';

// up, down, goto (and Alembic's upgrade/downgrade) on any driver: plan purely (plan.ts), lock,
// back up, then run the plan one migration at a time (execute.ts). Like Kysely's
// MigrationResultSet, every planned migration is in the result, as applied, failed or not-run
// (or planned, for --dry-run), with the row counts of the tables the migrations changed.

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
  rowCounts?: Record<string, RowCount>;
}

export type TableCounts = Record<string, RowCount>;

export interface VersionsResult {
  ok: boolean;
  command: string;
  /** Where the data is: a path, or a URL with the password masked. */
  database: string;
  migrations: string;
  dryRun: boolean;
  before?: VersionState;
  after?: VersionState;
  steps: StepReport[];
  /** Null: no backup (--no-backup, a dry run, nothing to do, or a database this run created empty). */
  backup: BackupRef | null;
  /** Rows before the run and after it of every table whose row count the run changed (null: the table did not exist, or, dropped, was not counted). Tables the run never wrote are not counted. */
  counts: TableCounts;
  warnings: LintFinding[];
  notices: string[];
  error?: ResultError;
}

export interface LockedOptions {
  /** Wait for another runner's lock (bounded by waitMs) instead of exiting 75. */
  wait?: boolean;
  waitMs?: number;
  signal?: AbortSignal;
  /** Waiting for the lock, the backup and each migration, as they start and end (src/progress.ts). */
  onProgress?: ProgressListener;
}

export interface VersionsOptions extends LockedOptions {
  now?: () => Date;
  dryRun?: boolean;
  /** Take a backup into backupDir before changing anything (default true). */
  backup?: boolean;
  backupDir: string;
}

/** The run's picture from its steps' own counts: each table's first before and last after (a rename carries its counts to the new name). */
export function runCounts(steps: TableChange[][]): TableCounts {
  const counts = new Map<string, RowCount>();
  for (const changes of steps) {
    for (const change of changes) {
      const earlier = counts.get(change.was ?? change.name) ?? counts.get(change.name);
      if (change.was) counts.delete(change.was);
      counts.set(change.name, carried(earlier, change));
    }
  }
  const sorted = [...counts].filter(([, c]) => c.before !== c.after || c.added !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(sorted);
}

/**
 * A table's count over the run so far, then this step: the first before, the last after. A
 * step that added rows without counting them adds to what is known (an exact after becomes the
 * next one; otherwise the rows added add up), and a later exact count fixes the first before.
 */
function carried(earlier: RowCount | undefined, step: RowCount): RowCount {
  if (!earlier) return rowCountOf(step);
  if (step.added !== undefined) {
    return earlier.added === undefined && earlier.after !== null ? { before: earlier.before, after: earlier.after + step.added } : { before: earlier.before, after: null, added: (earlier.added ?? 0) + step.added };
  }
  if (earlier.added !== undefined) return { before: step.before === null ? null : step.before - earlier.added, after: step.after };
  return { before: earlier.before, after: step.after };
}

/** Take the driver's lock, run `fn` with what the lock had to say, always release it. */
export async function locked<Ctx, T>(driver: Driver<Ctx>, options: LockedOptions, fn: (notices: string[]) => Promise<T>): Promise<T> {
  const waitMs = options.waitMs ?? 60_000;
  const notices = await driver.lock({
    wait: !!options.wait,
    waitMs,
    ...(options.signal ? { signal: options.signal } : {}),
    onWait: (holder) => options.onProgress?.({ step: 'lock', phase: 'start', message: `waiting up to ${waitMs} ms for the lock: ${holder}` }),
  });
  try {
    return await fn(notices);
  } finally {
    await driver.unlock();
  }
}

export async function runVersions<Ctx>(driver: Driver<Ctx>, set: MigrationSet<Ctx>, target: Target, command: string, options: VersionsOptions): Promise<VersionsResult> {
  const now = options.now ?? (() => new Date());
  const result: VersionsResult = {
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
    await driver.prepareSteps?.(set, steps);
    assertRunnable(set.migrations, steps);
    result.steps = steps.map((s) => {
      const body = byVersion.get(s.version)![s.direction]!;
      return { ...s, status: 'planned' as const, durationMs: 0, transactional: body.transactional, ...(body.sql !== undefined ? { sql: body.sql } : {}), ...(body.note ? { note: body.note } : {}) };
    });
    const pendingUp = new Set(steps.filter((s) => s.direction === 'up').map((s) => s.version));
    if (pendingUp.size > 0 && driver.lint) result.warnings = await driver.lint(set, pendingUp);
    return steps;
  };

  // What each applied migration changed, as it committed: the run's picture without counting again.
  const changes: TableChange[][] = [];
  try {
    if (options.dryRun) {
      await plan();
      result.after = result.before;
      result.ok = true;
      return result;
    }
    await locked(driver, options, async (notices) => {
      result.notices.push(...notices);
      // Read under the lock: another runner may have moved the version while we waited.
      const steps = await plan();
      if (steps.length === 0) {
        result.notices.push(`No change: the database is at version ${result.before!.version}.`);
        result.after = result.before;
        return;
      }
      // A module that cannot be loaded is refused before the backup and before any change.
      for (const step of steps) await byVersion.get(step.version)![step.direction]!.load?.();
      if (options.backup !== false) {
        let backedUp: ((path: string) => void) | undefined;
        result.backup = await driver.backup(options.backupDir, now(), {
          ...(options.signal ? { signal: options.signal } : {}),
          onStart: () => (backedUp = backupProgress(options.onProgress, driver.location)),
        });
        if (result.backup) backedUp?.(result.backup.path);
      }
      let version = result.before!.version;
      for (const [i, step] of steps.entries()) {
        const report = result.steps[i]!;
        // A Ctrl-C pressed while planning, linting or backing up is read in the event loop's
        // poll phase: let the loop turn (twice: the first turn may start past its poll phase),
        // so that it stops the run before a migration starts.
        await yieldToEventLoop();
        await yieldToEventLoop();
        if (options.signal?.aborted) {
          throw new InterruptedError('interrupted', `Interrupted before ${migrationLabel(step)}.`, { dataState: `Migrations before it are applied; the database is at version ${version}.` });
        }
        const progress = migrationProgress(options.onProgress, step, i, steps.length, report.transactional);
        try {
          const outcome = await executeStep(driver, byVersion.get(step.version)!, step, { versionBefore: version, now, ...(options.signal ? { signal: options.signal } : {}) });
          report.status = 'applied';
          report.durationMs = Math.round(outcome.durationMs);
          if (outcome.checks.length > 0) report.checks = outcome.checks;
          if (Object.keys(outcome.rowCounts).length > 0) report.rowCounts = outcome.rowCounts;
          if (outcome.summary !== undefined) report.summary = outcome.summary;
          version = step.versionAfter;
          changes.push(outcome.tableChanges);
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
    result.error = resultError(tool);
  }
  try {
    // After Ctrl-C the operator is waiting to get the terminal back: the version is worth a
    // read, not a wait (an app holding the version table would make that read wait for it).
    if (!result.after) result.after = options.signal?.aborted ? await readWithin(driver.readVersion(), INTERRUPTED_READ_MS) : await driver.readVersion();
  } catch {
    // The result still says what failed; the version is unknown.
  }
  // Migrations that failed were rolled back (or left dirty, which the error says): the counts are those of the committed ones.
  result.counts = runCounts(changes);
  return result;
}

/** How long the version read after an interruption may take before the result says "unknown". */
const INTERRUPTED_READ_MS = 2000;

/** The read's value, or a rejection after `ms`: what is left running is ended with the driver's session. */
function readWithin<T>(read: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer in time')), ms)));
  return Promise.race([read, late]).finally(() => clearTimeout(timer));
}
