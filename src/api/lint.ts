import { lintMigrations, type LintFinding } from '../engine/lint.js';
import { ExitCode } from '../errors.js';
import type { CommandResult } from '../results.js';
import { configOf, migrationSetOf, settle, type MigrationsOptions, placesOf, type Settled } from './options.js';

/** Lint reads the migrations alone: no database, no backups. */
export type LintOptions = Omit<MigrationsOptions, 'database' | 'backupDir' | 'busyTimeoutMs'>;

export interface LintResult extends CommandResult {
  status: 'clean' | 'failed';
  /** The migrations directory (or built-in set) linted. */
  migrations: string;
  /** Each with file, line, rule, message and a one-line fix. Any finding fails (exit code 65). */
  findings: LintFinding[];
}

/** `dbshift lint`: SQLite pitfalls in the migrations, found by replaying them on an empty in-memory database. */
export function lint(options: LintOptions = {}): Promise<Settled<LintResult>> {
  return settle<LintResult>(
    'lint',
    async () => {
      const set = await migrationSetOf(configOf(options), options.set);
      const findings = lintMigrations(set);
      return {
        ok: findings.length === 0,
        command: 'lint',
        status: findings.length === 0 ? ('clean' as const) : ('failed' as const),
        migrations: set.source,
        findings,
        notices: [],
        ...(findings.length > 0 ? { error: { code: 'lint-findings', message: `${findings.length} lint findings.`, exitCode: ExitCode.data } } : {}),
      };
    },
    (error) => ({ ok: false, command: 'lint', status: 'failed' as const, migrations: placesOf(options).migrations, findings: [], notices: [], error }),
  );
}
