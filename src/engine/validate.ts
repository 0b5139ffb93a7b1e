import { migrationLabel, orphanDocuments } from './discover.js';
import type { LintFinding } from './lint-registry.js';
import { assertClean, assertConsistent, consistencyProblems, type ConsistencyProblem } from './plan.js';
import { resultError, type ResultError } from '../results.js';
import type { Driver } from './driver.js';
import type { HistoryEntry, MigrationSet, PlannableMigration, VersionState } from './types.js';

// `dbshift validate`: everything that can be known before a run. Errors (an applied file
// changed or missing, a migration out of order, a dirty database) refuse, exit 65/66; the rest
// (gaps, missing documents or down files, lint findings) are warnings, errors with --strict.

export interface ValidateResult {
  ok: boolean;
  command: 'validate';
  database: string;
  migrations: string;
  count: number;
  errors: Array<{ code: string; version: number; message: string }>;
  warnings: LintFinding[];
  error?: ResultError;
}

/** From here on a version is a timestamp, not a sequence number: 1_000_000_000 is no team's 1,000,000,000th migration. */
const TIMESTAMP_VERSIONS_FROM = 1_000_000_000;

/** `validate` on any driver: its version and history, the driver's lint, one judgement. */
export async function validateMigrations<Ctx>(driver: Driver<Ctx>, set: MigrationSet<Ctx>, options: ValidateOptions = {}): Promise<ValidateResult> {
  const result: ValidateResult = { ok: false, command: 'validate', database: driver.location, migrations: set.source, count: set.migrations.length, errors: [], warnings: [] };
  try {
    const found = { state: await driver.readVersion(), history: await driver.readHistory() };
    judgeValidation(result, set, found, (await driver.lint?.(set)) ?? [], options);
  } catch (error) {
    result.error = resultError(error);
  }
  return result;
}

export interface ValidateOptions {
  strict?: boolean;
  docs?: boolean;
}

/** Everything but reading the database and linting (a missing SQLite file reads as version 0, no history). */
function judgeValidation(
  result: ValidateResult,
  set: { source: string; migrations: ReadonlyArray<PlannableMigration & { doc?: string }> },
  found: { state: VersionState; history: HistoryEntry[] },
  lint: LintFinding[],
  options: ValidateOptions,
): void {
  const { state } = found;
  if (state.dirty) result.errors.push({ code: 'database-dirty', version: state.version, message: `the database is dirty at version ${state.version}` });
  const problems: ConsistencyProblem[] = consistencyProblems(set.migrations, state, found.history);
  result.errors.push(...problems);
  const sorted = [...set.migrations].sort((a, b) => a.version - b.version);
  for (const [i, m] of sorted.entries()) {
    const previous = i === 0 ? 0 : sorted[i - 1]!.version;
    // Timestamp versions (golang-migrate's and dbmate's default, YYYYMMDDHHMMSS) leave gaps by design.
    if (m.version !== previous + 1 && m.version < TIMESTAMP_VERSIONS_FROM) {
      result.warnings.push({ file: m.files[0]!, line: 1, rule: 'version-gap', message: `${migrationLabel(m)} follows version ${previous}: versions ${previous + 1}–${m.version - 1} are missing.`, fix: 'Renumber, or restore the missing migration from version control.' });
    }
  }
  if (options.docs !== false) {
    for (const doc of orphanDocuments(set.source, set)) {
      result.warnings.push({ file: doc, line: 1, rule: 'orphan-doc', message: `${doc} documents no migration.`, fix: 'Rename it to match its migration, or remove it.' });
    }
  }
  result.warnings.push(...lint);
  if (result.errors.length > 0) {
    // The same refusal (message, hint, exit code) `up` would give.
    try {
      assertClean(state);
      assertConsistent(problems);
    } catch (error) {
      result.error = resultError(error);
    }
  } else if (options.strict && result.warnings.length > 0) {
    result.error = { code: 'validation-warnings', message: `${result.warnings.length} warnings (--strict).`, exitCode: 65 };
  } else {
    result.ok = true;
  }
}
