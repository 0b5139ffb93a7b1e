import type { Config } from '../config.js';
import { sqlitePath } from '../database-url.js';
import type { Driver } from '../engine/driver.js';
import type { SqliteConfig } from '../engine/drivers/sqlite/database.js';
import type { SqliteDriverOptions } from '../engine/drivers/sqlite/driver.js';
import type { MigrationSet } from '../engine/types.js';
import { UsageError } from '../errors.js';
import { configOf, migrationSetOf, milliseconds, type MigrationsOptions } from './options.js';

// Which database a versioned call is for, and its driver: SQLite for a path (or sqlite:// URL),
// PostgreSQL for a postgres:// URL. Everything after this (planning, running, results) is one
// path for both. Each engine's modules load only when a call needs them (pg and its parser for
// PostgreSQL, better-sqlite3 and the SQLite driver for SQLite).

/** What a versioned command is handed: the driver, the migrations loaded for it, the resolved configuration. */
export type DatabaseWork<T> = <Ctx>(driver: Driver<Ctx>, loadSet: () => Promise<MigrationSet<Ctx>>, config: Config) => Promise<T>;

export function sqliteConfigOf(config: Config): SqliteConfig {
  return { database: sqlitePath(config.database), backupDir: config.backupDir, busyTimeoutMs: config.busyTimeoutMs, ...(config.fault ? { fault: config.fault } : {}) };
}

/** The PostgreSQL URL a call is for, if it is for one. */
export function postgresUrlOf(config: Config): string | undefined {
  return config.database.kind === 'postgres' ? config.database.url : undefined;
}

/** The driver learns the set it works with (which version table a new database gets, dbmate's version texts). */
function known<Ctx>(driver: Driver<Ctx>, set: MigrationSet<Ctx>): MigrationSet<Ctx> {
  driver.knowMigrations?.(set);
  return set;
}

/** Open the call's database, hand its driver and migrations to `work`, always close it. */
export async function withDatabase<T>(options: MigrationsOptions, open: SqliteDriverOptions, work: DatabaseWork<T>): Promise<T> {
  const config = configOf(options);
  if (config.databaseDefaulted && options.set === undefined) {
    // HealthSum's instance/health_records.db is the pipeline's default (and the built-in set's), never a generic command's.
    throw new UsageError('no-database', 'No database named: the versioned commands need one.', {
      hint: 'Pass --database with a SQLite path or a postgres:// URL, or set DATABASE (or DATABASE_URL). Library: the `database` option.',
      dataState: 'Nothing was changed.',
    });
  }
  const url = postgresUrlOf(config);
  if (url) return withPostgres(url, config, options, work);
  const table = options.postgres?.migrationsTable;
  if (table !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
    throw new UsageError('bad-migrations-table', `--migrations-table for a SQLite database is one table name (letters, digits, _), got ${table}.`, {
      hint: 'SQLite has no schemas: name the table alone, e.g. --migrations-table billing_migrations.',
      dataState: 'Nothing was changed.',
    });
  }
  const { SqliteDriver } = await import('../engine/drivers/sqlite/driver.js');
  const driver = new SqliteDriver({ ...sqliteConfigOf(config), ...(table ? { versionTable: table } : {}) }, open);
  try {
    return await work(driver, async () => known(driver, await migrationSetOf(config, options.set, open.now)), config);
  } finally {
    await driver.close();
  }
}

async function withPostgres<T>(url: string, config: Config, options: MigrationsOptions, work: DatabaseWork<T>): Promise<T> {
  if (options.set !== undefined) {
    throw new UsageError('set-not-for-postgres', `The migration set ${options.set} is for SQLite; it does not run on PostgreSQL.`, { hint: 'Give the migrations directory for this database instead.' });
  }
  const pg = options.postgres ?? {};
  const lockTimeoutMs = milliseconds(pg.lockTimeoutMs, 'postgres.lockTimeoutMs');
  const statementTimeoutMs = milliseconds(pg.statementTimeoutMs, 'postgres.statementTimeoutMs');
  const [{ resolvePgTarget }, { PostgresDriver }, { loadPgMigrationDir }] = await Promise.all([
    import('../engine/drivers/postgres/connection.js'),
    import('../engine/drivers/postgres/driver.js'),
    import('../engine/drivers/postgres/load.js'),
  ]);
  const driver = await PostgresDriver.open(resolvePgTarget(url, pg.env ?? {}), {
    ...(lockTimeoutMs !== undefined ? { lockTimeoutMs } : {}),
    ...(statementTimeoutMs !== undefined ? { statementTimeoutMs } : {}),
    ...(pg.migrationsTable ? { migrationsTable: pg.migrationsTable } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    return await work(driver, async () => known(driver, await loadPgMigrationDir(config.migrationsDir, driver.serverVersionNum)), config);
  } finally {
    await driver.close();
  }
}
