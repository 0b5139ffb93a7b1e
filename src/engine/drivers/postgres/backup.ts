import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CannotCreateError, ConfigError, DataError, InterruptedError, IoError, toToolError } from '../../../errors.js';
import { verifyChecksum, writeChecksumFile } from '../../../files/checksum.js';
import { ensureDirectory, openExclusive, tempPathBeside } from '../../../files/create.js';
import { publishFile } from '../../../files/durable.js';
import { freeStampedPath } from '../../../files/names.js';
import type { BackupRef } from '../../driver.js';
import { connectClient, type PgTarget } from './connection.js';

// pg_dump -Fc before up/down: one read of the dump stream hashes it and writes the private
// file, which gets its name and its .sha256 only once complete. Restore checks the checksum,
// refuses a database that has tables (unless --clean: then the database becomes exactly what the
// backup holds, its previous content dumped first), and restores in one transaction.

/** The major version of a client tool on PATH, or undefined when it is not there. */
function toolMajor(tool: string): number | undefined {
  const run = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  if (run.error || run.status !== 0) return undefined;
  const match = /\)\s*(\d+)(?:\.\d+)?/.exec(run.stdout) ?? /(\d+)\.\d+/.exec(run.stdout);
  return match ? Number(match[1]) : undefined;
}

/** pg_dump/pg_restore must be at least the server's major version (an older one refuses, or misses objects). */
export function requireTool(tool: 'pg_dump' | 'pg_restore' | 'psql', serverVersionNum: number): void {
  const serverMajor = Math.floor(serverVersionNum / 10000);
  const major = toolMajor(tool);
  const pkg = `postgresql-client-${serverMajor}`;
  if (major === undefined) {
    throw new ConfigError('no-pg-dump', `${tool} is not on PATH, so dbshift cannot ${tool === 'pg_dump' ? 'back up' : 'restore'} the database.`, {
      hint: `Install it (apt-get install ${pkg}, or postgresql-client), or run without a backup (CLI: --no-backup; library: backup: false).`,
      dataState: 'Nothing was changed.',
    });
  }
  if (major < serverMajor) {
    throw new ConfigError('no-pg-dump', `${tool} on PATH is version ${major}, older than the server (${serverMajor}); it cannot be trusted with this database.`, {
      hint: `Install ${pkg} (apt-get install ${pkg}) and put its bin directory first on PATH, or run without a backup (CLI: --no-backup; library: backup: false).`,
      dataState: 'Nothing was changed.',
    });
  }
}

/** The tool's environment: the password only there (never in argv, which `ps` shows). */
function toolEnv(target: PgTarget): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (target.password !== undefined) env.PGPASSWORD = target.password;
  return env;
}

function runTool(tool: string, args: string[], target: PgTarget, stdout: (chunk: Buffer) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env: toolEnv(target), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      try {
        stdout(chunk);
      } catch (error) {
        child.kill('SIGTERM');
        reject(error);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const abort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', abort, { once: true });
    child.on('error', reject);
    child.on('close', (code) => {
      signal?.removeEventListener('abort', abort);
      if (signal?.aborted) reject(new InterruptedError('interrupted', `${tool} was interrupted.`));
      else if (code === 0) resolve();
      else reject(new IoError(`${tool}-failed`, `${tool} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`, { hint: `Check the message above; run ${tool} by hand to see all of it.` }));
    });
  });
}

/** `<database>_backup_<stamp>.dump` (+ `.sha256`) in `dir`. */
export async function dumpDatabase(target: PgTarget, database: string, serverVersionNum: number, dir: string, now: Date, signal?: AbortSignal, kind: 'backup' | 'replaced' = 'backup'): Promise<BackupRef> {
  requireTool('pg_dump', serverVersionNum);
  const backupDir = ensureDirectory(dir);
  const final = freeStampedPath(backupDir, `${database.replace(/[^A-Za-z0-9_-]/g, '_')}_${kind}`, now, '.dump');
  const partial = tempPathBeside(final, 'partial');
  const fd = openExclusive(partial);
  const hash = crypto.createHash('sha256');
  try {
    await runTool('pg_dump', ['--format=custom', '--no-password', `--dbname=${target.libpqUrl}`], target, (chunk) => {
      hash.update(chunk);
      let offset = 0;
      while (offset < chunk.length) offset += fs.writeSync(fd, chunk, offset);
    }, signal);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const sha256 = hash.digest('hex');
    publishFile(partial, final, 'new-name');
    writeChecksumFile(final, sha256);
    return { path: final, sha256, restoreCommand: restoreCommand(final, target) };
  } catch (error) {
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
    fs.rmSync(partial, { force: true });
    throw toToolError(error, partial);
  }
}

function restoreCommand(file: string, target: PgTarget): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `pg_restore --single-transaction --exit-on-error --dbname=${quote(target.display)} ${quote(path.resolve(file))}`;
}

export interface RestoreResult {
  ok: boolean;
  backup: string;
  sha256: string;
  database: string;
  /** What to run by hand for the same result (password masked); only for a restore into an empty database. */
  command?: string;
  /** With `clean`: the dump of what the database held before, taken before anything was dropped. */
  replaced?: BackupRef;
  /** With `clean`: the schemas dropped (and recreated from the backup when it has them). */
  droppedSchemas?: string[];
}

interface TargetState {
  database: string;
  tables: string[];
  /** Every schema a restore with `clean` drops: all but the system's (pg_catalog, information_schema, pg_toast, pg_temp_*). */
  schemas: string[];
  serverVersionNum: number;
}

/** Relations in the database outside the system schemas, its schemas, and the server's version. */
async function inspectTarget(target: PgTarget): Promise<TargetState> {
  const client = await connectClient(target.clientUrl, target.display);
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1`,
    );
    const schemas = await client.query<{ name: string }>(`SELECT nspname AS name FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%' ORDER BY 1`);
    const version = await client.query<{ v: number; db: string }>(`SELECT current_setting('server_version_num')::int AS v, current_database() AS db`);
    return { database: version.rows[0]!.db, tables: rows.map((r) => r.name), schemas: schemas.rows.map((r) => r.name), serverVersionNum: version.rows[0]!.v };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface RestoreOptions {
  /**
   * Replace what the database holds by what the backup holds: every schema (public included)
   * is dropped and the backup restored, in one transaction. Objects created after the backup
   * do not survive. Without it, a database that is not empty is refused.
   */
  clean?: boolean;
  /** With `clean`: where the dump of the current database goes first (default: beside the backup). */
  backupDir?: string;
  now?: Date;
  signal?: AbortSignal;
}

/** `dbshift restore BACKUP --to postgres://…`: into an empty database, or with `clean` in place of what it holds. */
export async function restoreDatabase(backup: string, target: PgTarget, options: RestoreOptions = {}): Promise<RestoreResult> {
  const sha256 = await verifyChecksum(backup);
  const state = await inspectTarget(target);
  const { tables, serverVersionNum } = state;
  if (tables.length > 0 && !options.clean) {
    throw new CannotCreateError('target-not-empty', `${target.display} is not empty (${tables.length} tables and other relations, e.g. ${tables.slice(0, 3).join(', ')}); restoring into it would mix two databases.`, {
      hint: 'Restore into a new, empty database (createdb NAME), or pass --clean to replace everything it holds by the backup (its current content is dumped into the backups first).',
      dataState: 'Nothing was changed.',
    });
  }
  requireTool('pg_restore', serverVersionNum);
  if (options.clean && state.schemas.length > 0) return restoreInPlace(backup, sha256, target, state, options);
  const args = ['--single-transaction', '--exit-on-error', '--no-password', `--dbname=${target.libpqUrl}`, backup];
  try {
    await runTool('pg_restore', args, target, () => undefined, options.signal);
  } catch (error) {
    throw failedInOneTransaction(error);
  }
  return { ok: true, backup, sha256, database: target.display, command: restoreCommand(backup, target) };
}

function failedInOneTransaction(error: unknown): unknown {
  if (!(error instanceof IoError)) return error;
  return new DataError('restore-failed', `${error.message}`, { hint: 'The restore ran in one transaction: the database is as it was. Fix the cause and run again.', dataState: 'Nothing was changed.', cause: error });
}

/**
 * The database becomes what the backup holds: in one psql transaction, every schema is
 * dropped (public recreated as the server creates it), then pg_restore's script, with its own
 * DROP … IF EXISTS for the objects outside schemas, recreates the backup's objects and rows.
 * A failure anywhere rolls all of it back. What the database held is dumped first.
 */
async function restoreInPlace(backup: string, sha256: string, target: PgTarget, state: TargetState, options: RestoreOptions): Promise<RestoreResult> {
  requireTool('psql', state.serverVersionNum);
  const replaced = await dumpDatabase(target, state.database, state.serverVersionNum, options.backupDir ?? path.dirname(backup), options.now ?? new Date(), options.signal, 'replaced');
  const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
  const publicSchema =
    state.serverVersionNum >= 150000
      ? `CREATE SCHEMA public AUTHORIZATION pg_database_owner;\nGRANT USAGE ON SCHEMA public TO PUBLIC;\n`
      : `CREATE SCHEMA public;\nGRANT ALL ON SCHEMA public TO PUBLIC;\n`;
  const prelude = `${state.schemas.map((name) => `DROP SCHEMA ${ident(name)} CASCADE;\n`).join('')}${publicSchema}COMMENT ON SCHEMA public IS 'standard public schema';\n`;
  try {
    await pipeTools(
      ['pg_restore', ['--clean', '--if-exists', '--file=-', backup]],
      ['psql', ['--no-psqlrc', '--quiet', '--no-password', '--single-transaction', '--set=ON_ERROR_STOP=1', `--dbname=${target.libpqUrl}`, '--file=-']],
      prelude,
      target,
      options.signal,
    );
  } catch (error) {
    const failure = failedInOneTransaction(error);
    if (failure instanceof DataError) failure.dataState = `Nothing was changed; the database's content before the attempt is also in ${replaced.path}.`;
    throw failure;
  }
  return { ok: true, backup, sha256, database: target.display, replaced, droppedSchemas: state.schemas };
}

/** `producer | consumer`, the consumer's input starting with `prelude`; both stopped on abort. */
function pipeTools(producer: [string, string[]], consumer: [string, string[]], prelude: string, target: PgTarget, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = toolEnv(target);
    const into = spawn(consumer[0], consumer[1], { env, stdio: ['pipe', 'ignore', 'pipe'] });
    const from = spawn(producer[0], producer[1], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stderr = { [producer[0]]: '', [consumer[0]]: '' };
    from.stderr.on('data', (chunk: Buffer) => (stderr[producer[0]] += chunk.toString()));
    into.stderr.on('data', (chunk: Buffer) => (stderr[consumer[0]] += chunk.toString()));
    into.stdin.on('error', () => undefined);
    into.stdin.write(prelude);
    from.stdout.pipe(into.stdin);
    const abort = () => {
      from.kill('SIGTERM');
      into.kill('SIGTERM');
    };
    signal?.addEventListener('abort', abort, { once: true });
    const codes: Record<string, number | null> = {};
    let pending = 2;
    const done = (tool: string) => (code: number | null) => {
      codes[tool] = code;
      if (tool === producer[0] && code !== 0) into.kill('SIGTERM');
      if (--pending > 0) return;
      signal?.removeEventListener('abort', abort);
      const failed = [producer[0], consumer[0]].find((t) => codes[t] !== 0 && stderr[t]!.trim() !== '') ?? [producer[0], consumer[0]].find((t) => codes[t] !== 0);
      if (signal?.aborted) reject(new InterruptedError('interrupted', `${consumer[0]} was interrupted; its transaction was rolled back.`));
      else if (!failed) resolve();
      else reject(new IoError(`${failed}-failed`, `${failed} failed (exit ${codes[failed]}): ${stderr[failed]!.trim().split('\n').slice(-3).join(' ')}`, { hint: `Check the message above; run ${failed} by hand to see all of it.` }));
    };
    from.on('error', reject);
    into.on('error', reject);
    from.on('close', done(producer[0]));
    into.on('close', done(consumer[0]));
  });
}
