import type { Config } from '../config.js';
import type { DriverMigrationSet } from '../engine/driver.js';
import { resolvePgTarget } from '../engine/drivers/postgres/connection.js';
import { PostgresDriver, type PgContext } from '../engine/drivers/postgres/driver.js';
import { loadPgMigrationDir } from '../engine/drivers/postgres/load.js';
import { UsageError } from '../errors.js';
import { milliseconds, type MigrationsOptions } from './options.js';

// The versioned commands on PostgreSQL: when `database` is a postgres:// URL, the same library
// functions run through the PostgreSQL driver. Options, planning and results are the same as
// on SQLite; only opening the database and loading the migrations differ.

/** The PostgreSQL URL a call is for, if it is for one. */
export function postgresUrlOf(config: Config): string | undefined {
  return config.database.kind === 'postgres' ? config.database.url : undefined;
}

/** Open the driver, hand it and the migrations (loaded for its server) to `fn`, always close it. */
export async function withPostgres<T>(
  url: string,
  config: Config,
  options: MigrationsOptions,
  fn: (driver: PostgresDriver, loadSet: () => Promise<DriverMigrationSet<PgContext>>) => Promise<T>,
): Promise<T> {
  if (options.set !== undefined) {
    throw new UsageError('set-not-for-postgres', `The migration set ${options.set} is for SQLite; it does not run on PostgreSQL.`, { hint: 'Give the migrations directory for this database instead.' });
  }
  const pg = options.postgres ?? {};
  const lockTimeoutMs = milliseconds(pg.lockTimeoutMs, 'postgres.lockTimeoutMs');
  const statementTimeoutMs = milliseconds(pg.statementTimeoutMs, 'postgres.statementTimeoutMs');
  const driver = await PostgresDriver.open(resolvePgTarget(url, pg.env ?? {}), {
    ...(lockTimeoutMs !== undefined ? { lockTimeoutMs } : {}),
    ...(statementTimeoutMs !== undefined ? { statementTimeoutMs } : {}),
    ...(pg.migrationsTable ? { migrationsTable: pg.migrationsTable } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    return await fn(driver, () => loadPgMigrationDir(config.migrationsDir, driver.serverVersionNum));
  } finally {
    await driver.close();
  }
}
