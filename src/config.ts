import path from 'node:path';
import { parseDatabaseLocation, parseDirectoryArgument, type DatabaseLocation } from './database-url.js';
import { ConfigError, UsageError } from './errors.js';

/** Everything the core needs from the outside world, read once at the edge (cli/run.ts). */
export interface Config {
  /** SECRET_KEY: from the environment or .env only, never from argv. Never printed. */
  secretKey: string | undefined;
  /** The live database to migrate (SOURCE_DB / --source). */
  sourceDb: string;
  instanceDir: string;
  backupDir: string;
  /** Why each directory is where it is (for the operator, before any work): a variable, the source's location, or the current directory. */
  dirsFrom: { instanceDir: string; backupDir: string };
  /** Where the migrated database is published: <instance>/health_records.db. */
  targetDb: string;
  /** The operator guide's hand-prepared input: <instance>/health_records_old.db. */
  handPreparedDb: string;
  /** How long to wait for another process's lock before giving up (exit 75). */
  busyTimeoutMs: number;
  /**
   * The database the versioned commands work on: --database > DATABASE > DATABASE_URL > the
   * target. A PostgreSQL URL is kept as such, for a driver to take (the CLI refuses it for now).
   */
  database: DatabaseLocation;
  /**
   * True when no --database, DATABASE or DATABASE_URL named it and `database` is HealthSum's
   * target: the generic versioned commands refuse that default rather than reach for it.
   */
  databaseDefaulted?: boolean;
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

/** setTimeout's and SQLite's busy timeout are 32-bit signed: larger values overflow, not wait longer. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Flags override environment variables, which override .env (loaded into env by the CLI), which
 * override defaults. A flag given with an empty value is a usage error, never the default: an
 * empty `--database ''` must not quietly mean instance/health_records.db. An empty environment
 * variable counts as unset (`DATABASE=` in .env).
 */
export function loadConfig(env: Record<string, string | undefined>, flags: ConfigFlags, cwd: string): Config {
  const resolve = (p: string) => path.resolve(cwd, p);
  const sourceSetting = setting(flags.source, '--source', env, ['SOURCE_DB']);
  const source = sourceSetting && parseDatabaseLocation(sourceSetting.value, cwd, sourceSetting.what);
  if (source?.kind === 'postgres') {
    throw new UsageError('source-not-sqlite', `${sourceSetting!.what}: ${source.display} is PostgreSQL; migrate, plan and backup work on SQLite files.`, {
      hint: 'Pass the SQLite file to migrate (a path, sqlite://path or file:path).',
      dataState: 'Nothing was changed.',
    });
  }
  const dirs = directories(env, source?.path, sourceSetting?.what, cwd);
  const { instanceDir, backupDir } = dirs;
  const handPreparedDb = path.join(instanceDir, HAND_PREPARED_NAME);
  const timeout = nonEmpty(env.DBSHIFT_BUSY_TIMEOUT_MS);
  const busyTimeoutMs = timeout === undefined ? DEFAULTS.busyTimeoutMs : Number(timeout);
  if (!/^\d+$/.test(timeout ?? '0') || !Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs > MAX_TIMEOUT_MS) {
    throw new ConfigError('bad-env', `DBSHIFT_BUSY_TIMEOUT_MS must be a whole number of milliseconds from 0 to ${MAX_TIMEOUT_MS}, got "${timeout}".`, {
      hint: 'Fix or unset DBSHIFT_BUSY_TIMEOUT_MS (default 5000).',
      dataState: 'Nothing was changed.',
    });
  }
  const databaseSetting = setting(flags.database, '--database', env, ['DATABASE', 'DATABASE_URL']);
  const dirSetting = setting(flags.dir, '--dir', env, ['MIGRATIONS_DIR']);
  return {
    secretKey: nonEmpty(env.SECRET_KEY),
    sourceDb: source ? source.path : handPreparedDb,
    instanceDir,
    backupDir,
    dirsFrom: dirs.from,
    targetDb: path.join(instanceDir, TARGET_NAME),
    database: databaseSetting ? parseDatabaseLocation(databaseSetting.value, cwd, databaseSetting.what) : { kind: 'sqlite', path: path.join(instanceDir, TARGET_NAME) },
    ...(databaseSetting ? {} : { databaseDefaulted: true }),
    migrationsDir: dirSetting ? parseDirectoryArgument(dirSetting.value, cwd, dirSetting.what) : resolve(DEFAULTS.migrationsDir),
    handPreparedDb,
    busyTimeoutMs,
    fault: env.NODE_ENV === 'test' ? nonEmpty(env.DBSHIFT_FAULT) : undefined,
  };
}

/**
 * Where files go. INSTANCE_DIR and BACKUP_DIR win. Otherwise, when the source is named
 * (SOURCE_DB / --source), the operator means *that* database's place, wherever they stand:
 * its directory is the instance directory (the migrated file is published beside it), and
 * backups go to `backups/` beside that directory when it is a Flask `instance/` directory
 * (app/instance/health_records.db -> app/backups), else to `backups/` inside it. Only without
 * a source do the defaults fall back to ./instance and ./backups.
 */
function directories(env: Record<string, string | undefined>, source: string | undefined, sourceWhat: string | undefined, cwd: string) {
  const sourceDir = source ? path.dirname(source) : undefined;
  const instanceVar = nonEmpty(env.INSTANCE_DIR);
  const backupVar = nonEmpty(env.BACKUP_DIR);
  const instanceDir = instanceVar ? path.resolve(cwd, instanceVar) : (sourceDir ?? path.resolve(cwd, DEFAULTS.instanceDir));
  const besideSource = sourceDir && path.basename(sourceDir) === DEFAULTS.instanceDir ? path.join(path.dirname(sourceDir), DEFAULTS.backupDir) : sourceDir && path.join(sourceDir, DEFAULTS.backupDir);
  const backupDir = backupVar ? path.resolve(cwd, backupVar) : (besideSource ?? path.resolve(cwd, DEFAULTS.backupDir));
  return {
    instanceDir,
    backupDir,
    from: {
      instanceDir: instanceVar ? 'INSTANCE_DIR' : sourceDir ? `the directory of ${sourceWhat}` : 'the current directory (no SOURCE_DB or INSTANCE_DIR)',
      backupDir: backupVar ? 'BACKUP_DIR' : sourceDir ? `beside ${sourceWhat}` : 'the current directory (no SOURCE_DB or BACKUP_DIR)',
    },
  };
}

/** The flag if given (even empty: that is refused later), else the first non-empty variable, named for messages. */
function setting(flag: string | undefined, flagName: string, env: Record<string, string | undefined>, vars: string[]): { value: string; what: string } | undefined {
  if (flag !== undefined) return { value: flag, what: flagName };
  for (const name of vars) {
    const value = nonEmpty(env[name]);
    if (value !== undefined) return { value, what: name };
  }
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
