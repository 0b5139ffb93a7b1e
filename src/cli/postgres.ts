import path from 'node:path';
import { UsageError } from '../errors.js';
import { forceWithDriver, runVersionsWithDriver, statusWithDriver, validateWithDriver } from '../engine/drive.js';
import type { DriverMigrationSet } from '../engine/driver.js';
import { restoreDatabase } from '../engine/drivers/postgres/backup.js';
import { isPostgresUrl, resolvePgTarget } from '../engine/drivers/postgres/connection.js';
import { PostgresDriver, type PgContext } from '../engine/drivers/postgres/driver.js';
import { lintPgRules, replayEmbedded, replayOnScratch } from '../engine/drivers/postgres/lint.js';
import { loadPgMigrationDir } from '../engine/drivers/postgres/load.js';
import type { LintFinding } from '../engine/lint.js';
import { resolveRevision, type Target } from '../engine/plan.js';
import type { ResultError } from '../results.js';
import { errorReport } from '../engine/session.js';
import { milliseconds, waitMsFrom } from './driver-options.js';
import { engineProgressLines, errorLines, migrationsDirOf, report, type EngineFlags } from './engine-io.js';
import { configFrom, type CliIo } from './io.js';
import { renderForce, renderStatus, renderValidate, renderVersions } from './render-engine.js';

// The versioned commands on PostgreSQL: when the database (--database, DATABASE,
// DATABASE_URL) is a postgres:// URL, they run through the PostgreSQL driver. Everything else
// (options, planning, results, rendering) is the same as on SQLite.

export interface PostgresFlags extends EngineFlags {
  wait?: boolean | string;
  lockTimeout?: string;
  statementTimeout?: string;
  migrationsTable?: string;
  dryRun?: boolean;
  backup?: boolean;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** The PostgreSQL URL the command is for, if it is for one: --database > DATABASE > DATABASE_URL. */
export function postgresUrl(io: CliIo, flags: { database?: string }): string | undefined {
  const value = flags.database ?? nonEmpty(io.env.DATABASE) ?? nonEmpty(io.env.DATABASE_URL);
  return value !== undefined && isPostgresUrl(value) ? value : undefined;
}

async function withDriver<T>(io: CliIo, flags: PostgresFlags, fn: (driver: PostgresDriver) => Promise<T>): Promise<T> {
  const lockTimeoutMs = milliseconds(flags.lockTimeout, '--lock-timeout');
  const statementTimeoutMs = milliseconds(flags.statementTimeout, '--statement-timeout');
  const driver = await PostgresDriver.open(resolvePgTarget(postgresUrl(io, flags), io.env), {
    ...(lockTimeoutMs !== undefined ? { lockTimeoutMs } : {}),
    ...(statementTimeoutMs !== undefined ? { statementTimeoutMs } : {}),
    ...(flags.migrationsTable ? { migrationsTable: flags.migrationsTable } : {}),
    signal: io.signal,
  });
  try {
    return await fn(driver);
  } finally {
    await driver.close();
  }
}

function settings(io: CliIo, flags: PostgresFlags): { migrationsDir: string; backupDir: string } {
  if (flags.set) throw new UsageError('set-not-for-postgres', `--set ${flags.set} is a SQLite migration set; it does not run on PostgreSQL.`, { hint: 'Pass --dir with the migrations for this database.' });
  return { migrationsDir: migrationsDirOf(io, flags), backupDir: configFrom(io).backupDir };
}

async function loadSet(driver: PostgresDriver, dir: string): Promise<DriverMigrationSet<PgContext>> {
  return loadPgMigrationDir(dir, driver.serverVersionNum);
}

/** up, down, goto, upgrade, downgrade. */
export async function runPostgresVersions(io: CliIo, command: string, target: Target, flags: PostgresFlags): Promise<void> {
  const { migrationsDir, backupDir } = settings(io, flags);
  const wait = waitMsFrom(flags);
  const result = await withDriver(io, flags, async (driver) =>
    runVersionsWithDriver(driver, await loadSet(driver, migrationsDir), target, command, {
      now: () => new Date(),
      signal: io.signal,
      backupDir,
      dryRun: !!flags.dryRun,
      backup: flags.backup !== false,
      ...(wait !== undefined ? { wait: true, waitMs: wait } : {}),
      ...(flags.json ? {} : { onProgress: engineProgressLines(io) }),
    }),
  );
  report(io, flags.json, result, (r) => {
    const lines = renderVersions(r);
    const counts = Object.entries(r.counts);
    if (counts.length > 0) {
      lines.push('', '  Rows (before -> after)');
      for (const [table, { before, after }] of counts) lines.push(`    ${table.padEnd(32)} ${before ?? '-'} -> ${after ?? '-'}`);
    }
    if (r.backup?.restoreCommand && r.ok) lines.push(`  By hand: ${r.backup.restoreCommand}`);
    return lines;
  });
}

/** force V: V is a number, a file stem, a name, `head` or `base`, resolved against the migrations. */
export async function runPostgresForce(io: CliIo, revision: number | string, flags: PostgresFlags): Promise<void> {
  const { migrationsDir } = settings(io, flags);
  const wait = waitMsFrom(flags);
  const result = await withDriver(io, flags, async (driver) => {
    const set = await loadSet(driver, migrationsDir);
    const version =
      revision === 'base' ? 0 : revision === 'head' ? Math.max(0, ...set.migrations.map((m) => m.version)) : typeof revision === 'number' ? revision : resolveRevision(set.migrations, revision);
    return forceWithDriver(driver, set, version, { signal: io.signal, ...(wait !== undefined ? { wait: true, waitMs: wait } : {}) });
  });
  report(io, flags.json, { ...result, notices: [] }, renderForce);
}

/** version (files optional) and history. */
export async function runPostgresStatus(io: CliIo, command: 'version' | 'history', flags: PostgresFlags, verbose = false): Promise<void> {
  const { migrationsDir } = settings(io, flags);
  const result = await withDriver(io, flags, async (driver) => {
    let set: DriverMigrationSet<PgContext> | undefined;
    try {
      set = await loadSet(driver, migrationsDir);
    } catch (error) {
      if (command === 'history') throw error;
    }
    return statusWithDriver(driver, set, command);
  });
  report(io, flags.json, result, (r) => renderStatus(r, command === 'history', verbose));
}

export async function runPostgresValidate(io: CliIo, flags: PostgresFlags & { strict?: boolean }): Promise<void> {
  const { migrationsDir } = settings(io, flags);
  const result = await withDriver(io, flags, async (driver) => validateWithDriver(driver, await loadSet(driver, migrationsDir), { strict: !!flags.strict }));
  report(io, flags.json, result, renderValidate);
}

/**
 * lint for PostgreSQL: the parser's rules, then a replay on a scratch database on the server
 * (--database postgres://…) or, without one (--dialect postgres), on PostgreSQL embedded in
 * this process (PGlite). The same result as the SQLite lint's.
 */
export async function postgresLint(io: CliIo, flags: PostgresFlags): Promise<{ ok: boolean; command: 'lint'; migrations: string; findings: LintFinding[]; error?: ResultError }> {
  const { migrationsDir } = settings(io, flags);
  const set = await loadPgMigrationDir(migrationsDir, Number.MAX_SAFE_INTEGER);
  const url = postgresUrl(io, flags);
  const replayed = url ? await replayOnScratch(set, resolvePgTarget(url, io.env)) : await replayEmbedded(set);
  const findings = [...(await lintPgRules(set)), ...replayed];
  return {
    ok: findings.length === 0,
    command: 'lint',
    migrations: set.source,
    findings,
    ...(findings.length > 0 ? { error: { code: 'lint-findings', message: `${findings.length} lint findings.`, exitCode: 65 } } : {}),
  };
}

/** restore BACKUP --to postgres://… [--clean]. */
export async function runPostgresRestore(io: CliIo, backup: string | undefined, to: string, flags: { json?: boolean; clean?: boolean }): Promise<void> {
  if (!backup) throw new UsageError('backup-required', 'Name the pg_dump backup to restore into PostgreSQL.', { hint: 'dbshift restore backups/NAME_backup_YYYYMMDD_HHMMSS.dump --to postgres://…' });
  const target = resolvePgTarget(to, io.env);
  let result: { ok: boolean; command: 'restore'; backup: string; database: string; sha256?: string; pgRestore?: string; error?: { code: string; message: string; hint?: string; dataState?: string; exitCode: number } };
  try {
    const restored = await restoreDatabase(path.resolve(io.cwd, backup), target, { clean: !!flags.clean, signal: io.signal });
    result = { ok: true, command: 'restore', backup: restored.backup, database: target.display, sha256: restored.sha256, pgRestore: restored.command };
  } catch (error) {
    result = { ok: false, command: 'restore', backup, database: target.display, error: errorReport(error) };
  }
  report(io, flags.json, result, (r) => [
    `dbshift restore: ${r.ok ? 'OK' : `FAILED (exit ${r.error?.exitCode ?? 1})`}`,
    ...errorLines(r.error),
    `  Backup    ${r.backup}${r.sha256 ? ` (sha256 ${r.sha256} checked)` : ''}`,
    `  Database  ${r.database}`,
    ...(r.pgRestore ? [`  By hand:  ${r.pgRestore}`] : []),
  ]);
}
