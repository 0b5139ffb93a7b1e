import { DataError, InputError, UsageError } from '../errors.js';
import { migrationLabel } from './discover.js';
import { appliedFromHistory, stampedVersion } from './state.js';
import type { HistoryEntry, MigrationStep, PlannableMigration, VersionState } from './types.js';

// Pure: what a command would run, decided from the migrations, the version row and the
// history, before anything is touched. The runner executes exactly this list.

/**
 * Where a command wants the database to end up. `all` is the explicit permission to revert
 * every applied migration (`down --all`, `downgrade base`); without it no target may reach an
 * empty history. `only` restricts a goto to one direction: Alembic's `upgrade V` never goes
 * down and `downgrade V` never goes up. A goto's `version` may also name a migration by its
 * file stem (`000002_add_tasks`) or its name (`add_tasks`).
 */
export type Target =
  | { kind: 'up'; count?: number; relative?: string }
  | { kind: 'down'; count?: number; all?: boolean; relative?: string }
  | { kind: 'goto'; version: number | string; all?: boolean; only?: 'up' | 'down' };

export interface ConsistencyProblem {
  code: 'applied-migration-changed' | 'applied-migration-missing' | 'migration-out-of-order' | 'version-taken' | 'skipped-by-other-tool';
  version: number;
  message: string;
}

/**
 * Refuse to run on a history that no longer matches the files: an applied migration edited
 * (checksum) or deleted, or a new one numbered below the current version (a merge of two
 * branches). Versions below the first one dbshift recorded were applied by another tool
 * (golang-migrate): they count as applied, without a checksum to compare.
 */
export function consistencyProblems(migrations: readonly PlannableMigration[], state: VersionState, history: HistoryEntry[]): ConsistencyProblem[] {
  const problems: ConsistencyProblem[] = [];
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  const applied = appliedFromHistory(history);
  const trackedFrom = history.length > 0 ? Math.min(...history.map((h) => h.version)) : Infinity;
  for (const [version, entry] of applied) {
    if (version > state.version) continue; // un-applied by `force` to a lower version
    const file = byVersion.get(version);
    if (!file) {
      problems.push({ code: 'applied-migration-missing', version, message: `${migrationLabel(entry)} is applied but its files are gone` });
    } else if (entry.name !== file.name) {
      // Not an edit: a different migration holds this version (e.g. `dbshift migrate` recorded
      // the built-in health_records_v5 as version 1, and the team's own set starts at 000001).
      problems.push({ code: 'version-taken', version, message: `version ${version} of this database is ${migrationLabel(entry)}, not ${migrationLabel(file)} from ${file.files.join(' + ')}` });
    } else if (entry.checksum && entry.checksum !== file.checksum) {
      problems.push({ code: 'applied-migration-changed', version, message: `${migrationLabel(file)} was changed after it was applied (checksum of ${file.files.join(' + ')})` });
    }
  }
  if (state.version > 0 && !byVersion.has(state.version) && !applied.has(state.version)) {
    problems.push({ code: 'applied-migration-missing', version: state.version, message: `the database is at version ${state.version}, but no migration file has that number` });
  }
  if (state.applied) {
    // dbmate's table lists each applied version: one below the newest that is not listed was
    // skipped (dbmate applies it later, out of order); dbshift runs in order and never skips.
    const listed = new Set(state.applied);
    for (const m of migrations) {
      if (m.version < state.version && !listed.has(m.version)) problems.push({ code: 'skipped-by-other-tool', version: m.version, message: `${migrationLabel(m)} is not applied, but the version table (dbmate's) records version ${state.version} above it` });
    }
    for (const version of state.applied) {
      if (version !== state.version && !byVersion.has(version) && !applied.has(version)) problems.push({ code: 'applied-migration-missing', version, message: `the version table records version ${version}, but no migration file has that number` });
    }
  }
  // A table that lists every version was checked above; golang-migrate's keeps only the newest.
  // A stamp declared everything up to its version applied (a file it did not run, too).
  const stamped = stampedVersion(history);
  if (!state.applied) for (const m of migrations) {
    if (m.version < state.version && m.version >= trackedFrom && m.version > stamped && !applied.has(m.version)) {
      problems.push({ code: 'migration-out-of-order', version: m.version, message: `${migrationLabel(m)} is pending but numbered below the current version ${state.version}` });
    }
  }
  return problems.sort((a, b) => a.version - b.version);
}

export function assertConsistent(problems: ConsistencyProblem[]): void {
  if (problems.length === 0) return;
  const list = problems.map((p) => p.message).join('; ');
  const missing = problems.every((p) => p.code === 'applied-migration-missing');
  const options = {
    hint: problems.some((p) => p.code === 'version-taken')
      ? 'If you renamed an applied migration, give it back its old name. If two migration sets share this database\'s version numbers, number yours above the versions it already has (`dbshift history` lists what is applied), or run them against a database the other set does not manage.'
      : problems.some((p) => p.code === 'applied-migration-changed')
      ? 'Applied migrations are immutable: restore the file from version control and put the change in a new migration.'
      : problems.some((p) => p.code === 'skipped-by-other-tool')
      ? 'dbmate applies a pending file below the newest one; dbshift runs in order and never skips one. Apply it with `dbmate up` (or renumber it above the current version), then run dbshift again.'
      : problems.some((p) => p.code === 'migration-out-of-order')
        ? 'Renumber the new migration above the current version (`dbshift create` picks the next number).'
        : 'Restore the missing migration files from version control.',
    dataState: 'Nothing was changed.',
  };
  if (missing) throw new InputError('applied-migration-missing', `Refusing to run: ${list}.`, options);
  throw new DataError(problems[0]!.code, `Refusing to run: ${list}.`, options);
}

export function assertClean(state: VersionState): void {
  if (!state.dirty) return;
  throw new DataError('database-dirty', `The database is dirty at version ${state.version}: a migration outside a transaction failed half-way.`, {
    hint: `Inspect the database and finish or undo that migration's changes by hand, then run \`dbshift force ${state.version}\` (or force the version below if you undid them).`,
    dataState: 'Nothing was changed.',
  });
}

/** The migrations to run, in order, to go from `state` to `target`. */
export function planSteps(migrations: readonly PlannableMigration[], state: VersionState, target: Target): MigrationStep[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const below = (version: number) => [...sorted].reverse().find((m) => m.version < version)?.version ?? 0;
  const upSteps = (pending: PlannableMigration[]) =>
    pending.map((m): MigrationStep => ({ version: m.version, name: m.name, direction: 'up', versionAfter: m.version }));
  const downSteps = (applied: PlannableMigration[]) =>
    applied.map((m): MigrationStep => ({ version: m.version, name: m.name, direction: 'down', versionAfter: below(m.version) }));

  const pending = sorted.filter((m) => m.version > state.version);
  const applied = sorted.filter((m) => m.version <= state.version).reverse();
  switch (target.kind) {
    case 'up':
      if (target.relative && target.count !== undefined && pending.length < target.count) throw relativeTooFar(target.relative, target.count, pending.length, state, 'pending');
      return upSteps(target.count === undefined ? pending : pending.slice(0, positive(target.count, 'up')));
    case 'down': {
      const count = target.count === undefined ? (target.all ? applied.length : 1) : positive(target.count, 'down');
      if (count >= applied.length && applied.length > 0 && !target.all) throw revertsEverything(`down ${count}`, applied.length);
      if (target.relative && applied.length < count) throw relativeTooFar(target.relative, count, applied.length, state, 'applied');
      return downSteps(applied.slice(0, count));
    }
    case 'goto': {
      const version = resolveRevision(sorted, target.version);
      if (target.only === 'up' && version < state.version) throw wrongDirection('upgrade', state, version, sorted);
      if (target.only === 'down' && version > state.version) throw wrongDirection('downgrade', state, version, sorted);
      if (version >= state.version) return upSteps(pending.filter((m) => m.version <= version));
      const reverted = applied.filter((m) => m.version > version);
      if (reverted.length === applied.length && !target.all) throw revertsEverything(`going to version ${version}`, applied.length);
      return downSteps(reverted);
    }
  }
}

/**
 * A version number, a file stem (`000002_add_tasks`) or a migration name (`add_tasks`), as
 * Alembic users name revisions. 0 means nothing applied.
 */
export function resolveRevision(migrations: readonly PlannableMigration[], revision: number | string): number {
  const unknown = (what: string) =>
    new InputError('unknown-version', `There is no migration ${what}.`, {
      hint: 'Run `dbshift history` to see the versions and names.',
      dataState: 'Nothing was changed.',
    });
  if (typeof revision === 'number' || /^\d+$/.test(revision)) {
    const version = Number(revision);
    if (version !== 0 && !migrations.some((m) => m.version === version)) throw unknown(`with version ${version}`);
    return version;
  }
  const stem = /^(\d+)_(.+)$/.exec(revision);
  const byStem = stem ? migrations.find((m) => m.version === Number(stem[1]) && m.name === stem[2]) : undefined;
  if (byStem) return byStem.version;
  const byName = migrations.filter((m) => m.name === revision);
  if (byName.length > 1) {
    throw new UsageError('ambiguous-revision', `"${revision}" names ${byName.length} migrations: ${byName.map((m) => migrationLabel(m)).join(', ')}.`, {
      hint: 'Name it by version or by its file stem.',
      dataState: 'Nothing was changed.',
    });
  }
  if (byName.length === 1) return byName[0]!.version;
  throw unknown(`named "${revision}"`);
}

function wrongDirection(command: 'upgrade' | 'downgrade', state: VersionState, version: number, migrations: readonly PlannableMigration[]): UsageError {
  const name = (v: number) => {
    const m = migrations.find((x) => x.version === v);
    return v === 0 ? '0 (nothing applied)' : m ? `${v} (${m.name})` : `${v}`;
  };
  const way = command === 'upgrade' ? 'below' : 'above';
  return new UsageError(`${command}-wrong-direction`, `${command} never goes ${command === 'upgrade' ? 'down' : 'up'}: the database is at version ${name(state.version)}, and the target ${name(version)} is ${way} it.`, {
    hint: command === 'upgrade' ? `To revert migrations on purpose, run \`dbshift downgrade ${version}\`.` : `To apply migrations, run \`dbshift upgrade ${version}\`.`,
    dataState: 'Nothing was changed.',
  });
}

/** Alembic's upgrade +N / downgrade -N move exactly N revisions or fail ("Relative revision +5 didn't produce 5 migrations"), unlike golang-migrate's up N. */
function relativeTooFar(relative: string, count: number, available: number, state: VersionState, what: 'pending' | 'applied'): UsageError {
  const where = what === 'pending' ? `the database is at version ${state.version} with ${available} migrations above it (head)` : `the database is at version ${state.version} with ${available} migrations applied${available === 0 ? ' (base)' : ''}`;
  return new UsageError('relative-revision-too-far', `Relative revision ${relative} didn't produce ${count} migrations: ${where}.`, {
    hint: what === 'pending' ? 'Use `upgrade head` for all pending migrations, or a smaller +N.' : 'Use a smaller -N (`dbshift history` lists what is applied).',
    dataState: 'Nothing was changed.',
  });
}

function revertsEverything(what: string, applied: number): UsageError {
  return new UsageError('down-to-zero', `${what} would revert every applied migration (${applied}).`, {
    hint: 'Pass --all to go back to an empty schema on purpose (Alembic: `downgrade base`).',
    dataState: 'Nothing was changed.',
  });
}

function positive(count: number, command: string): number {
  if (!Number.isInteger(count) || count < 1) throw new UsageError('bad-count', `${command} takes a whole number of migrations from 1 up, got ${count}.`);
  return count;
}

/** Every migration needs the body for its direction, runnable as written; say which are not before running any. */
export function assertRunnable(migrations: readonly PlannableMigration[], steps: MigrationStep[]): void {
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  const invalid = steps.map((s) => byVersion.get(s.version)?.[s.direction]?.invalid).find(Boolean);
  if (invalid) {
    throw new InputError('migration-not-runnable', `${invalid}.`, {
      hint: /COMMIT|ROLLBACK|BEGIN/.test(invalid)
        ? 'Remove the stray COMMIT/ROLLBACK (dbshift runs each migration in one transaction), or wrap the whole file in BEGIN; … COMMIT;.'
        : 'Change only this database in its migrations; move data between database files with a separate, separately backed-up step.',
      dataState: 'Nothing was changed.',
    });
  }
  const missing = steps.filter((s) => !byVersion.get(s.version)?.[s.direction]);
  if (missing.length === 0) return;
  throw new InputError('irreversible-migration', `No ${missing[0]!.direction} migration for ${missing.map((s) => migrationLabel(s)).join(', ')}.`, {
    hint: 'Write the missing .down.sql (or down() export), or restore the backup instead (`dbshift restore`).',
    dataState: 'Nothing was changed.',
  });
}
