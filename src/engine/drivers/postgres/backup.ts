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
// refuses a database that has tables (unless --clean), and runs pg_restore in one transaction.

/** The major version of a client tool on PATH, or undefined when it is not there. */
function toolMajor(tool: string): number | undefined {
  const run = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  if (run.error || run.status !== 0) return undefined;
  const match = /\)\s*(\d+)(?:\.\d+)?/.exec(run.stdout) ?? /(\d+)\.\d+/.exec(run.stdout);
  return match ? Number(match[1]) : undefined;
}

/** pg_dump/pg_restore must be at least the server's major version (an older one refuses, or misses objects). */
export function requireTool(tool: 'pg_dump' | 'pg_restore', serverVersionNum: number): void {
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
export async function dumpDatabase(target: PgTarget, database: string, serverVersionNum: number, dir: string, now: Date, signal?: AbortSignal): Promise<BackupRef> {
  requireTool('pg_dump', serverVersionNum);
  const backupDir = ensureDirectory(dir);
  const final = freeStampedPath(backupDir, `${database.replace(/[^A-Za-z0-9_-]/g, '_')}_backup`, now, '.dump');
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
    return { path: final, sha256, restoreCommand: restoreCommand(final, target, false) };
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

function restoreCommand(file: string, target: PgTarget, clean: boolean): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `pg_restore --single-transaction --exit-on-error${clean ? ' --clean --if-exists' : ''} --dbname=${quote(target.display)} ${quote(path.resolve(file))}`;
}

export interface RestoreResult {
  ok: boolean;
  backup: string;
  sha256: string;
  database: string;
  /** What to run by hand for the same result (password masked). */
  command: string;
}

/** Relations in the database outside the system schemas, and the server's version. */
async function inspectTarget(target: PgTarget): Promise<{ tables: string[]; serverVersionNum: number }> {
  const client = await connectClient(target.clientUrl, target.display);
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1`,
    );
    const version = await client.query<{ v: number }>(`SELECT current_setting('server_version_num')::int AS v`);
    return { tables: rows.map((r) => r.name), serverVersionNum: version.rows[0]!.v };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `dbshift restore BACKUP --to postgres://…`: into an empty database, or with `clean` over an existing one. */
export async function restoreDatabase(backup: string, target: PgTarget, options: { clean?: boolean; signal?: AbortSignal } = {}): Promise<RestoreResult> {
  const sha256 = await verifyChecksum(backup);
  const { tables, serverVersionNum } = await inspectTarget(target);
  if (tables.length > 0 && !options.clean) {
    throw new CannotCreateError('target-not-empty', `${target.display} is not empty (${tables.length} tables and other relations, e.g. ${tables.slice(0, 3).join(', ')}); restoring into it would mix two databases.`, {
      hint: 'Restore into a new, empty database (createdb NAME), or pass --clean to drop and recreate the backup\'s objects in this one.',
      dataState: 'Nothing was changed.',
    });
  }
  requireTool('pg_restore', serverVersionNum);
  const args = ['--single-transaction', '--exit-on-error', '--no-password', ...(options.clean ? ['--clean', '--if-exists'] : []), `--dbname=${target.libpqUrl}`, backup];
  try {
    await runTool('pg_restore', args, target, () => undefined, options.signal);
  } catch (error) {
    if (error instanceof IoError) {
      throw new DataError('restore-failed', `${error.message}`, { hint: 'pg_restore ran in one transaction: the database is as it was. Fix the cause and run again.', dataState: 'Nothing was changed.', cause: error });
    }
    throw error;
  }
  return { ok: true, backup, sha256, database: target.display, command: restoreCommand(backup, target, !!options.clean) };
}
