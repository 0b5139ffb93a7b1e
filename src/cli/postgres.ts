import path from 'node:path';
import { UsageError } from '../errors.js';
import { restoreDatabase } from '../engine/drivers/postgres/backup.js';
import { isPostgresUrl, resolvePgTarget } from '../engine/drivers/postgres/connection.js';
import { resultError } from '../results.js';
import { errorLines, report } from './engine-io.js';
import type { CliIo } from './io.js';

// restore of a pg_dump backup into PostgreSQL (restore --to postgres://…). The versioned
// commands reach PostgreSQL through the library (src/api/postgres.ts).

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** The PostgreSQL URL the command is for, if it is for one: --database > DATABASE > DATABASE_URL. */
export function postgresUrl(io: CliIo, flags: { database?: string }): string | undefined {
  const value = flags.database ?? nonEmpty(io.env.DATABASE) ?? nonEmpty(io.env.DATABASE_URL);
  return value !== undefined && isPostgresUrl(value) ? value : undefined;
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
    result = { ok: false, command: 'restore', backup, database: target.display, error: resultError(error) };
  }
  report(io, flags.json, result, (r) => [
    `dbshift restore: ${r.ok ? 'OK' : `FAILED (exit ${r.error?.exitCode ?? 1})`}`,
    ...errorLines(r.error),
    `  Backup    ${r.backup}${r.sha256 ? ` (sha256 ${r.sha256} checked)` : ''}`,
    `  Database  ${r.database}`,
    ...(r.pgRestore ? [`  By hand:  ${r.pgRestore}`] : []),
  ]);
}
