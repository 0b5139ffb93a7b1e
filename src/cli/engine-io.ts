import type { Command } from 'commander';
import type { CallOptions, MigrationsOptions, PostgresOptions, WaitOptions } from '../api/options.js';
import type { ProgressListener } from '../progress.js';
import { UsageError } from '../errors.js';
import type { ResultError } from '../results.js';
import { red } from './render.js';
import { configFrom, printResult, type CliIo } from './io.js';
import { milliseconds, waitMsFrom, withDriverOptions, type CommandKind } from './driver-options.js';

// What the versioned-migration commands share: options, where the database and migrations
// are, and printing one result as text or exactly one JSON object.

export interface EngineFlags {
  database?: string;
  dir?: string;
  set?: string;
  json?: boolean;
  wait?: boolean | string;
  pgLockTimeout?: string;
  statementTimeout?: string;
  migrationsTable?: string;
}

/** --database, --dir, --set and --json, on every versioned command. */
export function withEngineOptions(command: Command, kind: CommandKind = 'changes'): Command {
  return withDriverOptions(command, kind)
    .option('--database <url>', 'the database: a SQLite path, sqlite://path or file:path, or a postgres:// URL (env DATABASE, then DATABASE_URL)')
    .option('--dir <path>', 'the migrations directory, or file://path (env MIGRATIONS_DIR; default migrations)')
    .option('--set <name>', 'use a built-in migration set instead of --dir (health-records: the v5 change)')
    .option('--json', 'print exactly one JSON object on stdout');
}

/**
 * What every versioned command hands the library (src/api): the Config resolved from the
 * flags and the environment, the built-in set if named, --wait, the PostgreSQL driver's
 * settings (with the environment for libpq's PG* variables), the cwd and Ctrl-C's signal.
 */
export function engineOptions(io: CliIo, flags: EngineFlags): Required<Pick<CallOptions, 'config' | 'cwd' | 'signal'>> & Pick<MigrationsOptions, 'set' | 'postgres'> & WaitOptions {
  // Passed through even when empty: an empty --database or --dir is refused, never the default.
  const config = configFrom(io, { ...(flags.database !== undefined ? { database: flags.database } : {}), ...(flags.dir !== undefined ? { dir: flags.dir } : {}) });
  const wait = waitMsFrom(flags);
  const lockTimeoutMs = milliseconds(flags.pgLockTimeout, '--pg-lock-timeout');
  const statementTimeoutMs = milliseconds(flags.statementTimeout, '--statement-timeout');
  const postgres: PostgresOptions = {
    env: io.env,
    ...(lockTimeoutMs !== undefined ? { lockTimeoutMs } : {}),
    ...(statementTimeoutMs !== undefined ? { statementTimeoutMs } : {}),
    ...(flags.migrationsTable ? { migrationsTable: flags.migrationsTable } : {}),
  };
  return { config, cwd: io.cwd, signal: io.signal, postgres, ...(flags.set ? { set: flags.set } : {}), ...(wait !== undefined ? { wait } : {}) };
}

/** The engine's progress for a person: one `dbshift: …` line on stderr as each step starts (the lock wait, the backup, each migration). */
export function engineProgressLines(io: CliIo): ProgressListener {
  return (event) => {
    if (event.phase === 'start' && event.message) io.stderr.write(`dbshift: ${event.message}\n`);
  };
}

/** Print the result (the common --json core, failures on stderr) and set the exit code from its error. */
export function report<R extends { ok: boolean; error?: ResultError; command?: string; status?: string; notices?: string[] }>(
  io: CliIo,
  json: boolean | undefined,
  result: R,
  render: (result: R) => string[],
  command = result.command ?? 'dbshift',
  reportOnStdout = false,
): void {
  printResult(io, command, json, result, (r, colour) => colourVerdict(render(r).join('\n'), colour), reportOnStdout);
}

/** Every versioned command's first line ends in its verdict; a failure's shows in red on a colour terminal. */
function colourVerdict(text: string, colour: boolean): string {
  return colour ? text.replace(/FAILED \(exit \d+\)/, (verdict) => red(verdict, true)) : text;
}

/** A failure as text: what happened, what it did to the data, what to do next. */
export function errorLines(error: { message: string; dataState?: string; hint?: string } | undefined): string[] {
  if (!error) return [];
  return [`  ${error.message}`, ...(error.dataState ? [`  ${error.dataState}`] : []), ...(error.hint ? [`  Next: ${error.hint}`] : [])];
}

/** Parse a version or count argument: digits only, so "1e3" or "-1" is a usage error, not a surprise. */
export function wholeNumber(value: string, what: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError('bad-number', `${what} must be a whole number, got "${value}".`);
  return Number(value);
}

/** A revision argument: a version number, a file stem (000002_add_tasks) or a migration name (add_tasks). */
export function revisionArgument(value: string, what: string): number | string {
  if (/^\d+$/.test(value)) return Number(value);
  // Names follow discover.ts's file pattern; anything else (1e3, -1, '') is a usage error, not a lookup.
  if (/^(\d+_[A-Za-z0-9]|[A-Za-z])[A-Za-z0-9_-]*$/.test(value)) return value;
  throw new UsageError('bad-revision', `${what} must be a version number, a file stem (000002_add_tasks) or a migration name (add_tasks), got "${value}".`);
}
