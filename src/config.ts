import path from 'node:path';
import { ConfigError } from './errors.js';

/** Everything the core needs from the outside world, read once at the edge (cli/main.ts). */
export interface Config {
  /** SECRET_KEY: from the environment or .env only, never from argv. Never printed. */
  secretKey: string | undefined;
  /** The live database to migrate (SOURCE_DB / --source). */
  sourceDb: string;
  instanceDir: string;
  backupDir: string;
  /** Where the migrated database is published: <instance>/health_records.db. */
  targetDb: string;
  /** The operator guide's hand-prepared input: <instance>/health_records_old.db. */
  handPreparedDb: string;
  /** How long to wait for another process's lock before giving up (exit 75). */
  busyTimeoutMs: number;
  /** The database the versioned commands work on (--database / DATABASE): the target by default. */
  database: string;
  /** Where migration files live (--dir / MIGRATIONS_DIR). */
  migrationsDir: string;
  /** Test-only fault injection (DBSHIFT_FAULT), honoured only when NODE_ENV=test. */
  fault: string | undefined;
}

export interface ConfigFlags {
  source?: string;
  database?: string;
  dir?: string;
}

export const DEFAULTS = {
  instanceDir: 'instance',
  backupDir: 'backups',
  busyTimeoutMs: 5_000,
  migrationsDir: 'migrations',
} as const;

export const TARGET_NAME = 'health_records.db';
export const HAND_PREPARED_NAME = 'health_records_old.db';

/** Flags override environment variables, which override .env (loaded into env by the CLI), which override defaults. */
export function loadConfig(env: Record<string, string | undefined>, flags: ConfigFlags, cwd: string): Config {
  const resolve = (p: string) => path.resolve(cwd, p);
  const instanceDir = resolve(nonEmpty(env.INSTANCE_DIR) ?? DEFAULTS.instanceDir);
  const backupDir = resolve(nonEmpty(env.BACKUP_DIR) ?? DEFAULTS.backupDir);
  const handPreparedDb = path.join(instanceDir, HAND_PREPARED_NAME);
  const source = nonEmpty(flags.source) ?? nonEmpty(env.SOURCE_DB);
  const timeout = nonEmpty(env.DBSHIFT_BUSY_TIMEOUT_MS);
  const busyTimeoutMs = timeout === undefined ? DEFAULTS.busyTimeoutMs : Number(timeout);
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new ConfigError('bad-env', `DBSHIFT_BUSY_TIMEOUT_MS must be a whole number of milliseconds, got "${timeout}".`);
  }
  return {
    secretKey: nonEmpty(env.SECRET_KEY),
    sourceDb: source ? resolve(source) : handPreparedDb,
    instanceDir,
    backupDir,
    targetDb: path.join(instanceDir, TARGET_NAME),
    database: resolve(nonEmpty(flags.database) ?? nonEmpty(env.DATABASE) ?? path.join(instanceDir, TARGET_NAME)),
    migrationsDir: resolve(nonEmpty(flags.dir) ?? nonEmpty(env.MIGRATIONS_DIR) ?? DEFAULTS.migrationsDir),
    handPreparedDb,
    busyTimeoutMs,
    fault: env.NODE_ENV === 'test' ? nonEmpty(env.DBSHIFT_FAULT) : undefined,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
