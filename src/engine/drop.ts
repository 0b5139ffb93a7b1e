import { resultError, type ResultError } from '../results.js';
import type { BackupRef, Driver, DriverSession } from './driver.js';
import type { PgContext } from './drivers/postgres/context.js';
import type { MigrationContext } from './types.js';
import { locked, type LockedOptions } from './versions.js';

// golang-migrate's `drop`: every table of the database (SQLite) or of the current schema
// (PostgreSQL), the version table and dbshift's history included. Unlike golang-migrate, a
// checksummed backup is taken first (patient data: a mistyped URL must be recoverable).

export interface DropResult {
  ok: boolean;
  command: 'drop';
  database: string;
  /** The tables (and views) dropped. */
  dropped: string[];
  backup: BackupRef | null;
  notices: string[];
  error?: ResultError;
}

export interface DropOptions extends LockedOptions {
  backup: boolean;
  backupDir: string;
  now?: () => Date;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** SQLite: views first (they name tables), then tables; indexes and triggers go with their tables. Foreign keys are off in the session. */
function dropSqlite(ctx: MigrationContext): string[] {
  const objects = ctx.db.prepare(`SELECT type, name FROM sqlite_master WHERE type IN ('view', 'table') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type = 'table', name`).all() as Array<{ type: string; name: string }>;
  for (const o of objects) ctx.exec(`DROP ${o.type === 'view' ? 'VIEW' : 'TABLE'} ${quote(o.name)}`);
  return objects.map((o) => o.name);
}

/** PostgreSQL, as golang-migrate's postgres driver: every base table of the current schema, CASCADE. */
async function dropPostgres(ctx: PgContext): Promise<string[]> {
  const tables = await ctx.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`);
  for (const t of tables) await ctx.query(`DROP TABLE IF EXISTS ${quote(t.name)} CASCADE`);
  return tables.map((t) => t.name);
}

export async function dropEverything<Ctx>(driver: Driver<Ctx>, options: DropOptions): Promise<DropResult> {
  const now = options.now ?? (() => new Date());
  const result: DropResult = { ok: false, command: 'drop', database: driver.location, dropped: [], backup: null, notices: [] };
  try {
    await locked(driver, options, async (notices) => {
      result.notices.push(...notices);
      if (options.backup) result.backup = await driver.backup(options.backupDir, now(), options.signal ? { signal: options.signal } : {});
      result.dropped = await driver.transaction(async (session: DriverSession<Ctx>) =>
        driver.dialect === 'sqlite' ? dropSqlite(session.ctx as unknown as MigrationContext) : dropPostgres(session.ctx as unknown as PgContext),
      'drop');
    });
    result.ok = true;
  } catch (error) {
    result.error = resultError(error);
  }
  return result;
}
