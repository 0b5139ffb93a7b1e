import path from 'node:path';
import { DEFAULTS, loadConfig, type Config } from '../config.js';
import { loadMigrationDir } from '../engine/discover.js';
import type { MigrationSet } from '../engine/types.js';
import { InternalError, toToolError, UsageError } from '../errors.js';
import type { ProgressListener } from '../progress.js';
import { resultError, withCore, type CommandResult, type ResultError } from '../results.js';

// What every library function takes, and how it becomes the core's Config. The library reads
// no environment: every setting is an option, resolved against `cwd` by the same rules the CLI
// applies to its flags and variables (src/config.ts), so a path means the same thing in both.

/** What every function takes. */
export interface CallOptions {
  /** Relative paths resolve against this directory (default: `process.cwd()`). */
  cwd?: string;
  /** Abort to stop at the next safe point: the result is `ok: false` with exit code 130, the lock released. */
  signal?: AbortSignal;
  /** Called as steps and migrations start, progress and end. */
  onProgress?: ProgressListener;
  /**
   * @internal The CLI's configuration, already resolved from its flags and the environment
   * (with messages that name them); the library's callers give the options below instead.
   */
  config?: Config;
}

/** Where a versioned command's database, migrations and backups are. */
export interface MigrationsOptions extends CallOptions {
  /** The SQLite database (default: `instance/health_records.db`). */
  database?: string;
  /** The migrations directory (default: `migrations`). */
  dir?: string;
  /** A built-in migration set instead of `dir`: `health-records` (the v5 change). */
  set?: string;
  /** Where backups go (default: `backups`). */
  backupDir?: string;
  /** How long SQLite waits for another connection's write lock, in ms (default 5000). */
  busyTimeoutMs?: number;
  /** When `database` is a postgres:// URL: the driver's settings. */
  postgres?: PostgresOptions;
}

/** The PostgreSQL driver's settings (docs/postgres.md). */
export interface PostgresOptions {
  /** lock_timeout for every migration statement, in ms (default 5000; 0 waits forever), retried 3 times. */
  lockTimeoutMs?: number;
  /** statement_timeout for every migration statement, in ms (default: the server's). */
  statementTimeoutMs?: number;
  /** The version table, `table` or `schema.table` (default `schema_migrations`). Also read for a SQLite database (a table name alone), each version table with its own history. */
  migrationsTable?: string;
  /** libpq's variables (PGHOST, PGUSER, PGPASSWORD…) that complete the URL; the library reads none itself (the CLI passes its environment). */
  env?: Record<string, string | undefined>;
}

/** For commands that take dbshift's lock: how long to wait for another run. */
export interface WaitOptions {
  /**
   * Wait up to this many ms for another run's lock (another app instance migrating), then go
   * on; default 0: fail at once with `instance-locked` (exit code 75).
   */
  wait?: number;
}

/** Where the HealthSum v5 pipeline's files are, and its key. */
export interface PipelineOptions extends CallOptions {
  /** The live database to migrate (default: `instance/health_records_old.db`). */
  source?: string;
  /** Where the migrated database is published (default: `instance`). */
  instanceDir?: string;
  /** Where backups go (default: `backups`). */
  backupDir?: string;
  /** The HealthSum SECRET_KEY (migrate, plan and verify need it). Never printed. */
  secretKey?: string;
  /** How long SQLite waits for another connection's write lock, in ms (default 5000). */
  busyTimeoutMs?: number;
}

type AnyOptions = CallOptions & Partial<Omit<MigrationsOptions, keyof CallOptions>> & Partial<Omit<PipelineOptions, keyof CallOptions>>;

/** setTimeout's and SQLite's timeouts are 32-bit signed: larger values overflow instead of waiting longer. */
const MAX_MS = 2 ** 31 - 1;

/** A whole number of milliseconds, or a usage error naming the option. */
export function milliseconds(value: number | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > MAX_MS) {
    throw new UsageError('bad-option', `${option} must be a whole number of milliseconds from 0 to ${MAX_MS}, got ${String(value)}.`, { dataState: 'Nothing was changed.' });
  }
  return value;
}

/** The core's Config for a call: the CLI's own, or the options resolved as the CLI resolves flags. */
export function configOf(options: AnyOptions): Config {
  if (options.config) return options.config;
  const settings = {
    SECRET_KEY: options.secretKey,
    INSTANCE_DIR: options.instanceDir,
    BACKUP_DIR: options.backupDir,
  };
  const flags = {
    ...(options.source !== undefined ? { source: options.source } : {}),
    ...(options.database !== undefined ? { database: options.database } : {}),
    ...(options.dir !== undefined ? { dir: options.dir } : {}),
  };
  let config = loadConfig(settings, flags, options.cwd ?? process.cwd());
  if (options.backupDir === undefined && options.source === undefined && !config.databaseDefaulted && config.database.kind === 'sqlite') {
    // A library call runs wherever the app runs: its SQLite backups go beside the database, not into the process's working directory.
    config = { ...config, backupDir: path.join(path.dirname(config.database.path), DEFAULTS.backupDir), dirsFrom: { ...config.dirsFrom, backupDir: 'beside the database' } };
  }
  const busyTimeoutMs = milliseconds(options.busyTimeoutMs, 'busyTimeoutMs');
  return busyTimeoutMs === undefined ? config : { ...config, busyTimeoutMs };
}

/** Where a failed call was pointed, for its result: as given, or as the CLI resolved it. */
export function placesOf(options: AnyOptions): { database: string; migrations: string } {
  const location = options.config?.databaseDefaulted ? undefined : options.config?.database;
  const database = location ? (location.kind === 'sqlite' ? location.path : location.display) : (options.database ?? '');
  return { database, migrations: options.set ?? options.config?.migrationsDir ?? options.dir ?? '' };
}

/** The migrations a versioned command works with: a built-in set, or the directory's files. */
export async function migrationSetOf(config: Config, set: string | undefined, now: () => Date = () => new Date(), discover: { listUnrunnable?: boolean } = {}): Promise<MigrationSet> {
  if (set !== undefined) {
    // The v5 pipeline's modules load only for the built-in set: a command on a directory never needs them.
    const { builtinSet } = await import('../plans/health-records-v5/migration-set.js');
    const builtin = builtinSet(set, now);
    if (!builtin) throw new UsageError('unknown-set', `There is no built-in migration set "${set}" (there is: health-records).`);
    return builtin;
  }
  return loadMigrationDir(config.migrationsDir, discover);
}

/** A failure as data, the way the CLI shows it; a bug keeps its stack, since nothing else will show it. */
export function failureOf(error: unknown): ResultError {
  const failure = resultError(error, 'Nothing was changed.');
  if (toToolError(error) instanceof InternalError && error instanceof Error && error.stack) failure.message += `\n${error.stack}`;
  return failure;
}

/**
 * A command's result as the library returns it: either `ok: true`, or `ok: false` with its
 * `error`, so that `if (!result.ok) result.error.hint` type-checks.
 */
export type Settled<R extends CommandResult> = (R & { ok: true }) | (R & { ok: false; error: ResultError });

/**
 * Run one command's work and give its result the common core. Whatever it throws (a usage or
 * configuration error found before the core ran, a bug) comes back as `ok: false` in the shape
 * `empty` gives: the library never throws for a failure.
 */
export async function settle<R extends { ok: boolean; error?: ResultError | undefined; command?: string; status?: string; notices?: string[] }>(
  command: string,
  work: () => R | Promise<R>,
  empty: (error: ResultError) => R,
): Promise<Settled<R & CommandResult>> {
  let result: R;
  try {
    result = await work();
  } catch (error) {
    result = empty(failureOf(error));
  }
  if (!result.ok && !result.error) {
    result = { ...result, error: failureOf(new InternalError('no-error', `${command} failed without saying why.`, { hint: 'This is a bug in dbshift. Please report it with the full output.' })) };
  }
  return withCore(command, result) as Settled<R & CommandResult>;
}
