import type { LintFinding } from '../engine/lint-registry.js';
import { errorsOf, type JudgedFindings, type LintSuppression } from '../engine/lint-settings.js';
import { lintSqlite } from '../engine/lint.js';
import type { MigrationSet } from '../engine/types.js';
import { ExitCode, UsageError } from '../errors.js';
import type { CommandResult } from '../results.js';
import { configOf, migrationSetOf, placesOf, settle, type MigrationsOptions, type Settled } from './options.js';
import { postgresUrlOf, withDatabase } from './database.js';

/** Lint reads the migrations (and, for PostgreSQL with a server, replays them on a scratch database): no backups. */
export interface LintOptions extends Omit<MigrationsOptions, 'backupDir' | 'busyTimeoutMs'> {
  /**
   * `sqlite` or `postgres` (default: `postgres` when `database` is a postgres:// URL, which
   * then hosts the scratch replay; else `sqlite`).
   */
  dialect?: 'sqlite' | 'postgres';
  /** Judge only the migrations the database has not applied yet (its version is read; the earlier ones still build the schema). */
  pending?: boolean;
  /**
   * PostgreSQL without a server: also replay the statements on PGlite, PostgreSQL compiled to
   * WASM, in this process (several seconds and hundreds of MB). Without it, and without a
   * server, the statements are parsed and modelled, not run.
   */
  embedded?: boolean;
}

export interface LintResult extends CommandResult {
  status: 'clean' | 'failed';
  /** The migrations directory (or built-in set) linted. */
  migrations: string;
  /** Each with file, line, rule, message and a one-line fix; `level: 'warning'` ones do not fail. Any other finding fails (exit code 65). */
  findings: LintFinding[];
  /** The `-- dbshift:ignore` comments that silenced findings, with their reasons. */
  suppressed: LintSuppression[];
  /** The project's dbshift.lint.json, when one was read. */
  settingsFile?: string;
  /** With `pending`: the versions judged (those the database has not applied). */
  judged?: number[];
}

/** `dbshift lint`: SQLite's (or PostgreSQL's) pitfalls in the migrations, each with file, line and fix. */
export function lint(options: LintOptions = {}): Promise<Settled<LintResult>> {
  return settle<LintResult>(
    'lint',
    async () => {
      if (options.dialect !== undefined && options.dialect !== 'sqlite' && options.dialect !== 'postgres') {
        throw new UsageError('bad-dialect', `The dialect (--dialect) takes sqlite or postgres, got "${String(options.dialect)}".`);
      }
      const config = configOf(options);
      const url = postgresUrlOf(config);
      const postgres = options.dialect === 'postgres' || (options.dialect === undefined && url !== undefined);
      if (options.pending && postgres && !url) {
        throw new UsageError('pending-needs-database', '--pending judges what the database has not applied, and no PostgreSQL database was given; nothing was linted.', { hint: 'Give --database postgres://…, or lint every migration without --pending.' });
      }
      const notices: string[] = [];
      let judged: { set: MigrationSet<unknown>; result: JudgedFindings; only?: number[] };
      if (postgres) {
        // PostgreSQL's parser (and PGlite, only when asked) load only when a lint needs them.
        const [{ lintPostgres }, { loadPgMigrationDir }] = await Promise.all([import('../engine/drivers/postgres/lint.js'), import('../engine/drivers/postgres/load.js')]);
        // pg (the client) loads only when there is a server.
        const server = url ? (await import('../engine/drivers/postgres/connection.js')).resolvePgTarget(url, options.postgres?.env ?? {}) : undefined;
        const only = options.pending ? await pendingVersions(options) : undefined;
        const set = await loadPgMigrationDir(config.migrationsDir, Number.MAX_SAFE_INTEGER, { listUnrunnable: true });
        const result = await lintPostgres(set, { only: only && new Set(only), server, embedded: !!options.embedded });
        if (result.replay === 'no-server') {
          notices.push('No PostgreSQL server was given: statements beyond plain DDL (CHECKs, functions, views, data…) were parsed, not run. Give --database postgres://… to also replay them on a scratch database there (or --embedded).');
        }
        judged = { set, result, ...(only ? { only } : {}) };
      } else {
        const only = options.pending ? await pendingVersions(options) : undefined;
        const set = await migrationSetOf(config, options.set, undefined, { listUnrunnable: true });
        judged = { set, result: lintSqlite(set, only && new Set(only)), ...(only ? { only } : {}) };
      }
      const { findings, suppressed, settings } = judged.result;
      const errors = errorsOf(findings).length;
      return {
        ok: errors === 0,
        command: 'lint',
        status: errors === 0 ? 'clean' : 'failed',
        migrations: judged.set.source,
        findings,
        suppressed,
        ...(settings.file ? { settingsFile: settings.file } : {}),
        ...(judged.only ? { judged: judged.only } : {}),
        notices,
        ...(errors > 0 ? { error: { code: 'lint-findings', message: `${errors} lint findings.`, exitCode: ExitCode.data } } : {}),
      };
    },
    (error) => ({ ok: false, command: 'lint', status: 'failed', migrations: placesOf(options).migrations, findings: [], suppressed: [], notices: [], error }),
  );
}

/** The versions after the database's: what `up` would still run (golang-migrate's order: everything above the version). */
async function pendingVersions(options: LintOptions): Promise<number[]> {
  return withDatabase(options, { command: 'lint' }, async (driver, loadSet) => {
    const [state, set] = await Promise.all([driver.readVersion(), loadSet()]);
    return set.migrations.map((m) => m.version).filter((v) => v > state.version);
  });
}
