import { lintMigrations, type LintFinding } from '../engine/lint.js';
import { ExitCode, UsageError } from '../errors.js';
import type { CommandResult } from '../results.js';
import { configOf, migrationSetOf, placesOf, settle, type MigrationsOptions, type Settled } from './options.js';
import { postgresUrlOf } from './database.js';

/** Lint reads the migrations (and, for PostgreSQL, replays them on a scratch database): no backups. */
export interface LintOptions extends Omit<MigrationsOptions, 'backupDir' | 'busyTimeoutMs'> {
  /**
   * `sqlite` or `postgres` (default: `postgres` when `database` is a postgres:// URL, which
   * then hosts the scratch replay; else `sqlite`). `postgres` without a server replays on
   * PostgreSQL embedded in dbshift.
   */
  dialect?: 'sqlite' | 'postgres';
}

export interface LintResult extends CommandResult {
  status: 'clean' | 'failed';
  /** The migrations directory (or built-in set) linted. */
  migrations: string;
  /** Each with file, line, rule, message and a one-line fix. Any finding fails (exit code 65). */
  findings: LintFinding[];
}

/** `dbshift lint`: SQLite's (or PostgreSQL's) pitfalls in the migrations, found by replaying them on a scratch database. */
export function lint(options: LintOptions = {}): Promise<Settled<LintResult>> {
  return settle<LintResult>(
    'lint',
    async () => {
      if (options.dialect !== undefined && options.dialect !== 'sqlite' && options.dialect !== 'postgres') {
        throw new UsageError('bad-dialect', `The dialect (--dialect) takes sqlite or postgres, got "${String(options.dialect)}".`);
      }
      const config = configOf(options);
      const url = postgresUrlOf(config);
      let migrations: string;
      let findings: LintFinding[];
      if (options.dialect === 'postgres' || (options.dialect === undefined && url !== undefined)) {
        // PostgreSQL's parser and PGlite load only when a lint needs them.
        const [{ resolvePgTarget }, { lintPgRules, replayEmbedded, replayOnScratch }, { loadPgMigrationDir }] = await Promise.all([
          import('../engine/drivers/postgres/connection.js'),
          import('../engine/drivers/postgres/lint.js'),
          import('../engine/drivers/postgres/load.js'),
        ]);
        const set = await loadPgMigrationDir(config.migrationsDir, Number.MAX_SAFE_INTEGER, { listUnrunnable: true });
        const replayed = url ? await replayOnScratch(set, resolvePgTarget(url, options.postgres?.env ?? {})) : await replayEmbedded(set);
        migrations = set.source;
        findings = [...(await lintPgRules(set)), ...replayed];
      } else {
        const set = await migrationSetOf(config, options.set, undefined, { listUnrunnable: true });
        migrations = set.source;
        findings = lintMigrations(set);
      }
      return {
        ok: findings.length === 0,
        command: 'lint',
        status: findings.length === 0 ? 'clean' : 'failed',
        migrations,
        findings,
        notices: [],
        ...(findings.length > 0 ? { error: { code: 'lint-findings', message: `${findings.length} lint findings.`, exitCode: ExitCode.data } } : {}),
      };
    },
    (error) => ({ ok: false, command: 'lint', status: 'failed', migrations: placesOf(options).migrations, findings: [], notices: [], error }),
  );
}
