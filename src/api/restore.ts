import { parseDatabaseLocation, sqlitePath } from '../database-url.js';
import { UsageError } from '../errors.js';
import { restore as runRestore } from '../pipeline/restore.js';
import type { RunResult } from '../pipeline/types.js';
import type { PipelineOptions, PostgresOptions, Settled } from './options.js';
import { resolvedPath, runPipeline } from './pipeline.js';

export interface RestoreOptions extends PipelineOptions {
  /** The backup to restore (default: the target's newest verified backup, e.g. app_backup_* for app.db; PostgreSQL: required). */
  backup?: string;
  /**
   * Where to restore it: a path, sqlite://path or file:path; or a postgres:// URL for a
   * `pg_dump` backup (`.dump`). Default: the configured database.
   */
  to?: string;
  /**
   * PostgreSQL: make a database that is not empty what the backup holds: its current content is
   * dumped into the backups, every schema dropped and the backup restored, in one transaction
   * (objects created after the backup do not survive). Without it a non-empty target is refused.
   */
  clean?: boolean;
  /** PostgreSQL: libpq's variables that complete the URL. */
  postgres?: Pick<PostgresOptions, 'env'>;
}

/**
 * `dbshift restore`: check the backup (SHA-256), then put it back. SQLite: quick_check, keep
 * the current file in the backups, put the backup in place atomically. PostgreSQL: pg_restore
 * in one transaction into an empty database (or `clean`).
 */
export function restore(options: RestoreOptions = {}): Promise<Settled<RunResult>> {
  return runPipeline('restore', options, async (config, runOptions) => {
    const to = options.to !== undefined ? parseDatabaseLocation(options.to, options.cwd ?? process.cwd(), 'to') : config.database;
    const backup = options.backup !== undefined ? resolvedPath(options, options.backup) : undefined;
    if (to.kind === 'postgres') return restoreIntoPostgres(to.url, backup, config.backupDir, options, runOptions.signal);
    return runRestore(config, { ...(backup !== undefined ? { backup } : {}), to: sqlitePath(to) }, runOptions);
  });
}

async function restoreIntoPostgres(url: string, backup: string | undefined, backupDir: string, options: RestoreOptions, signal: AbortSignal | undefined): Promise<RunResult> {
  if (!backup) {
    throw new UsageError('backup-required', 'Name the pg_dump backup to restore into PostgreSQL.', { hint: 'dbshift restore backups/NAME_backup_YYYYMMDD_HHMMSS.dump --to postgres://…', dataState: 'Nothing was changed.' });
  }
  const runAt = new Date();
  const started = performance.now();
  const [{ resolvePgTarget }, { restoreDatabase }] = await Promise.all([import('../engine/drivers/postgres/connection.js'), import('../engine/drivers/postgres/backup.js')]);
  const target = resolvePgTarget(url, options.postgres?.env ?? {});
  const restored = await restoreDatabase(backup, target, { clean: !!options.clean, backupDir, now: runAt, ...(signal ? { signal } : {}) });
  const ms = Math.round(performance.now() - started);
  return {
    ok: true,
    command: 'restore',
    status: 'restored',
    schemaState: 'not-inspected',
    steps: [{ name: 'restore', status: 'ok', ms, detail: restored.replaced ? `schemas dropped and the backup restored, in one transaction` : 'pg_restore in one transaction' }],
    counts: {},
    warnings: [],
    backup: { path: restored.backup, sha256: restored.sha256 },
    target: restored.database,
    checks: [],
    notices: [
      ...(restored.replaced ? [`The previous content of ${restored.database} was kept as ${restored.replaced.path}; dropped and restored from the backup: schemas ${restored.droppedSchemas!.join(', ')}.`] : []),
      ...(restored.command ? [`By hand: ${restored.command}`] : []),
    ],
    source: restored.backup,
    runAt: runAt.toISOString(),
    totalMs: ms,
  };
}
