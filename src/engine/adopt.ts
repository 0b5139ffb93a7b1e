import { DataError, InputError } from '../errors.js';
import { resultError, type ResultError } from '../results.js';
import type { Driver } from './driver.js';
import type { PgContext } from './drivers/postgres/context.js';
import type { MigrationContext, MigrationSet, VersionState } from './types.js';
import { ALEMBIC_TABLE, mapAlembicVersion } from './version-tables/alembic.js';
import { FLYWAY_ROWS_SQL, FLYWAY_TABLE, mapFlywayVersion } from './version-tables/flyway.js';
import { locked, type LockedOptions } from './versions.js';

// `dbshift adopt`: take over a database another tool migrated. Its version table (Alembic's
// alembic_version, Flyway's flyway_schema_history) is mapped to the version of the migrations
// directory, and that version is recorded in dbshift's table, as `force` records one; nothing
// else changes, and the other tool's table stays as it was. golang-migrate's and dbmate's
// tables need no adoption: dbshift reads and writes them as they are.

export type AdoptedFrom = 'alembic' | 'flyway' | 'golang-migrate or dbmate';

export interface AdoptResult {
  ok: boolean;
  command: 'adopt';
  database: string;
  from?: AdoptedFrom;
  /** What the other tool's table says, in its words. */
  found?: string;
  version?: number;
  /** False when dbshift's table already said the same (nothing written). */
  recorded: boolean;
  before?: VersionState;
  after?: VersionState;
  notices: string[];
  error?: ResultError;
}

type Rows = Array<Record<string, unknown>>;

/** One read inside the session's transaction, in the driver's own dialect. */
async function rowsOf<Ctx>(driver: Driver<Ctx>, ctx: Ctx, sql: string): Promise<Rows> {
  if (driver.dialect === 'sqlite') return (ctx as unknown as MigrationContext).db.prepare(sql).all() as Rows;
  return (ctx as unknown as PgContext).query(sql);
}

const TABLES_SQL = {
  sqlite: `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('${ALEMBIC_TABLE}', '${FLYWAY_TABLE}')`,
  postgres: `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('${ALEMBIC_TABLE}', '${FLYWAY_TABLE}')`,
};

function refuse(message: string): DataError {
  return new DataError('adopt-not-exact', `Cannot adopt: ${message}.`, {
    hint: 'Adopt records one exact version or nothing: bring the database or the directory to a point where they match (import again, or migrate with the other tool), then adopt again.',
    dataState: 'Nothing was changed.',
  });
}

export async function adoptDatabase<Ctx>(driver: Driver<Ctx>, set: MigrationSet<Ctx>, options: LockedOptions & { now?: () => Date } = {}): Promise<AdoptResult> {
  const now = options.now ?? (() => new Date());
  const result: AdoptResult = { ok: false, command: 'adopt', database: driver.location, recorded: false, notices: [] };
  try {
    await locked(driver, options, async (notices) => {
      result.notices.push(...notices);
      const state = await driver.readVersion();
      result.before = state;
      if (state.dirty) throw refuse(`dbshift's version table is dirty at version ${state.version}`);
      // Read and map inside a transaction that a refusal rolls back: nothing is created on the way.
      const mapped = await driver.transaction(async (session) => {
        const present = new Set((await rowsOf(driver, session.ctx, TABLES_SQL[driver.dialect])).map((r) => String(r.name)));
        if (present.has(ALEMBIC_TABLE) && present.has(FLYWAY_TABLE)) throw refuse('the database has both alembic_version and flyway_schema_history; which one tells the truth is not for dbshift to guess');
        if (present.has(ALEMBIC_TABLE)) return { from: 'alembic' as const, ...mapAlembicVersion(await rowsOf(driver, session.ctx, `SELECT version_num FROM ${ALEMBIC_TABLE}`) as Array<{ version_num: unknown }>, set.migrations) };
        if (present.has(FLYWAY_TABLE)) return { from: 'flyway' as const, ...mapFlywayVersion(await rowsOf(driver, session.ctx, FLYWAY_ROWS_SQL) as never, set.migrations) };
        if (state.version > 0) return { from: 'golang-migrate or dbmate' as const, version: state.version, found: `schema_migrations version ${state.version}` };
        throw new InputError('nothing-to-adopt', `${driver.location} has no version table of Alembic (alembic_version), Flyway (flyway_schema_history), golang-migrate or dbmate (schema_migrations).`, {
          hint: 'For a database created without a migration tool, `dbshift force V` records the version its schema matches.',
          dataState: 'Nothing was changed.',
        });
      }, 'adopt');
      if ('problem' in mapped) throw refuse(mapped.problem);
      Object.assign(result, { from: mapped.from, found: mapped.found, version: mapped.version });
      if (mapped.version !== 0 && !set.migrations.some((m) => m.version === mapped.version)) throw refuse(`${mapped.found}, but ${set.source} has no migration ${mapped.version}`);
      if (state.version === mapped.version) {
        result.notices.push(mapped.from === 'golang-migrate or dbmate' ? 'dbshift reads and writes this schema_migrations table as it is: there is nothing to adopt.' : `dbshift's version table already says ${mapped.version}: nothing to record.`);
      } else if (state.version > 0) {
        throw refuse(`dbshift's version table says ${state.version}, while ${mapped.found} maps to version ${mapped.version}`);
      } else {
        const migration = set.migrations.find((m) => m.version === mapped.version)!;
        await driver.setVersion({ version: mapped.version, dirty: false }, { version: mapped.version, name: migration.name, direction: 'force', checksum: migration.checksum, appliedAt: now().toISOString(), durationMs: 0 });
        result.recorded = true;
      }
      result.after = await driver.readVersion();
    });
    result.ok = true;
  } catch (error) {
    result.error = resultError(error);
  }
  return result;
}
