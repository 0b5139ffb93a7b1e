import { migrationLabel } from './discover.js';
import { consistencyProblems, type ConsistencyProblem } from './plan.js';
import { resultError, type ResultError } from '../results.js';
import type { Driver } from './driver.js';
import { appliedFromHistory } from './state.js';
import type { HistoryEntry, MigrationSet, PlannableMigration, VersionState } from './types.js';

// `version` / `current` and `history`: read-only, no lock, nothing written.

export interface MigrationStatus {
  version: number;
  name: string;
  label: string;
  state: 'applied' | 'pending';
  kind: 'sql' | 'code' | 'builtin';
  /** The migration's files (relative to the migrations directory) and its document. */
  files: string[];
  doc?: string;
  /** False for `-- dbshift:no-transaction` (golang-migrate's dirty protocol). */
  transactional: boolean;
  reversible: boolean;
  checksum: string;
  /** What the history says was applied: when, how long, and the checksum then. */
  appliedAt?: string;
  durationMs?: number;
  appliedChecksum?: string | null;
  changed?: boolean;
}

export interface StatusResult {
  ok: boolean;
  command: string;
  database: string;
  migrations: string;
  current?: VersionState & { name?: string };
  migrationsStatus: MigrationStatus[];
  history: HistoryEntry[];
  problems: ConsistencyProblem[];
  error?: ResultError;
}

/** `version` / `history` on any driver: read-only, no lock. */
export async function readStatus<Ctx>(driver: Driver<Ctx>, set: MigrationSet<Ctx> | undefined, command: string): Promise<StatusResult> {
  const result: StatusResult = { ok: false, command, database: driver.location, migrations: set?.source ?? '', migrationsStatus: [], history: [], problems: [] };
  try {
    describeStatus(result, set, await driver.readVersion(), await driver.readHistory());
    result.ok = true;
  } catch (error) {
    result.error = resultError(error);
  }
  return result;
}

/** What describeStatus needs of a migration, whatever database runs it. */
type DescribedMigration = PlannableMigration & { kind: MigrationStatus['kind']; doc?: string; up?: { transactional: boolean } };

/** Fill `result` from the version row, the history and (when there) the files: any database's status. */
export function describeStatus(result: StatusResult, set: { migrations: readonly DescribedMigration[] } | undefined, state: VersionState, history: HistoryEntry[]): void {
  const applied = appliedFromHistory(history);
  // Without the files (`version` reads the database alone), the history knows the name.
  const name = state.version === 0 ? undefined : (set?.migrations.find((m) => m.version === state.version)?.name ?? [...history].reverse().find((h) => h.version === state.version)?.name);
  result.current = { ...state, ...(name ? { name } : {}) };
  result.history = history;
  if (!set) return;
  result.problems = consistencyProblems(set.migrations, state, history);
  result.migrationsStatus = set.migrations.map((m) => {
    const entry = applied.get(m.version);
    const isApplied = m.version <= state.version;
    return {
      version: m.version,
      name: m.name,
      label: migrationLabel(m),
      state: isApplied ? 'applied' : 'pending',
      kind: m.kind,
      files: m.files,
      ...(m.doc ? { doc: m.doc } : {}),
      // Read when asked (history --verbose, JSON): how a file runs takes a parse on PostgreSQL, which `version` never needs.
      get transactional() {
        return m.up?.transactional ?? true;
      },
      reversible: !!m.down,
      checksum: m.checksum,
      ...(isApplied && entry
        ? { appliedAt: entry.appliedAt, durationMs: entry.durationMs, appliedChecksum: entry.checksum, changed: !!entry.checksum && entry.checksum !== m.checksum }
        : {}),
    };
  });
}
