import { DataError, InternalError } from '../../../errors.js';
import { openWritable, type Db } from '../../../sqlite/open.js';
import { rebuildTable } from '../../rebuild.js';
import { splitStatements } from '../../sql-text.js';
import type { MigrationContext } from '../../types.js';
import type { StatementWatch } from './row-changes.js';

// A migration's connection on SQLite. Every migration starts on a connection in the same,
// checked state: a pragma one migration sets (people write `PRAGMA foreign_keys=ON` out of
// habit) must not reach the next one's table rebuild, where DROP TABLE would cascade-delete
// every child row. Foreign keys are off (set before any BEGIN: the pragma is a no-op inside a
// transaction); foreign_key_check runs before every commit instead.
//
// A connection is handed to the next migration only when the migration that used it could not
// have changed it: SQL that names no PRAGMA, ATTACH, DETACH or TEMP object, no code touching
// the connection, a commit; and the baseline still reads back. Anything else, and the next
// migration gets a new connection. (A new connection per migration re-reads and re-parses the
// whole schema: with 500 tables that was most of a small migration's time.)

/** What a fresh connection is; a migration starts only from exactly this. */
const CONNECTION_BASELINE: Record<string, number> = {
  foreign_keys: 0,
  defer_foreign_keys: 0,
  legacy_alter_table: 0,
  recursive_triggers: 0,
  ignore_check_constraints: 0,
  writable_schema: 0,
  query_only: 0,
};

/** The baseline pragmas that do not read back as the baseline. */
function offBaseline(db: Db): string[] {
  return Object.entries(CONNECTION_BASELINE)
    .filter(([pragma, value]) => Number(db.pragma(pragma, { simple: true })) !== value)
    .map(([pragma]) => pragma);
}

export function openChecked(file: string, busyTimeoutMs: number): Db {
  const db = openWritable(file, busyTimeoutMs);
  // better-sqlite3 turns foreign keys on for every connection; migrations run with them off.
  db.pragma('foreign_keys = OFF');
  const off = offBaseline(db);
  if (off.length > 0) {
    db.close();
    throw new InternalError('connection-state', `A new migration connection is not in its baseline state: ${off.join(', ')}.`);
  }
  return db;
}

/** A used connection is as a new one would be: the baseline pragmas, no temp object, nothing attached, no transaction. */
export function stillBaseline(db: Db): boolean {
  try {
    if (!db.open || db.inTransaction || offBaseline(db).length > 0) return false;
    if ((db.pragma('database_list') as Array<{ name: string }>).some((d) => d.name !== 'main' && d.name !== 'temp')) return false;
    return db.prepare('SELECT count(*) FROM temp.sqlite_master').pluck().get() === 0;
  } catch {
    return false;
  }
}

/**
 * SQL that may change the connection rather than the database (a pragma, an attached database,
 * a temp table, view or trigger), or roll part of itself back: a schema change undone by
 * ROLLBACK TO gives schema_version back, and the next migration's change could take the same
 * number, so the schema read cached under it (row-changes.ts) must not be handed on.
 */
const CHANGES_CONNECTION = /\b(?:pragma|attach|detach|temp|temporary|rollback)\b/i;

/** What a migration's up/down/verify receive; lint's in-memory replay uses the same. */
export function contextFor(db: Db): MigrationContext {
  return { db, exec: (sql) => db.exec(sql), rebuildTable: (table, change) => rebuildTable(db, table, change) };
}

/**
 * The context a migration's code receives, revoked when it returns: work it scheduled for
 * later (a callback, the rest of an async function) must not reach the connection after its
 * checks ran, or after dbshift rolled it back.
 */
export function revocableContext(db: Db, label: string, watch: () => StatementWatch | undefined = () => undefined): { ctx: MigrationContext; revoke(): void; changedConnection(): boolean } {
  let live = true;
  /** The migration may have changed the connection itself (see the top of this file): it is not handed on. */
  let changed = false;
  const guard = () => {
    if (!live) throw new DataError('migration-outlived', `${label} used its connection after it returned (a callback or an await); a migration does all its work inside up() or down().`);
  };
  // What the connection hands out keeps working on it: a prepared statement, a transaction
  // function. They are revoked with the context, or a statement prepared inside up() and run
  // from a callback would still reach the connection.
  const revocable = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, property, self) {
        guard();
        changed = true;
        // better-sqlite3's unsafe mode turns SQLite's defensive flag off: PRAGMA writable_schema
        // could then rewrite sqlite_master, and columns vanish with their data, no row counted lost.
        if (property === 'unsafeMode' && object === db) return () => {
          throw new DataError('unsafe-mode', `${label} called db.unsafeMode(): migrations run with SQLite's defensive mode on (no writable_schema, no direct writes to sqlite_master).`, {
            hint: 'Change the schema with SQL (ALTER TABLE) or ctx.rebuildTable(), never by editing sqlite_master.',
          });
        };
        const value = Reflect.get(object, property, object) as unknown;
        if (typeof value !== 'function') return value;
        if (object === db && property === 'exec') return (sql: string) => (guard(), execWatched(db, sql, watch()), self);
        const runs = isStatement(object) && RUNS.has(property);
        return (...args: unknown[]) => {
          guard();
          const after = runs ? watch()?.beforeStatement((object as unknown as { source: string }).source) : undefined;
          const result = (value as (...a: unknown[]) => unknown).apply(object, args);
          after?.();
          // Chained calls (stmt.pluck(), db.unsafeMode()) return the object itself: hand back the guarded one.
          return result === object ? self : handsOut(result) ? revocable(result) : result;
        };
      },
      apply(fn, self, args) {
        guard();
        return Reflect.apply(fn as (...a: unknown[]) => unknown, self, args);
      },
    });
  // better-sqlite3 does not export its Statement class; its instances are known by name.
  const isStatement = (value: unknown): value is object => typeof value === 'object' && value !== null && value.constructor?.name === 'Statement';
  const handsOut = (value: unknown): value is object => typeof value === 'function' || isStatement(value);
  const proxy = revocable(db);
  return {
    ctx: {
      db: proxy,
      exec: (sql) => {
        guard();
        if (CHANGES_CONNECTION.test(sql)) changed = true;
        execWatched(db, sql, watch());
      },
      rebuildTable: (table, change) => {
        guard();
        changed = true;
        const after = watch()?.beforeRebuild(table);
        rebuildTable(db, table, change);
        after?.();
      },
    },
    revoke: () => {
      live = false;
    },
    changedConnection: () => changed,
  };
}

/** What a Statement does that runs it (the rest only describe it). */
const RUNS = new Set<string | symbol>(['run', 'get', 'all', 'iterate']);

/**
 * db.exec, one statement at a time when the row-loss backstop watches: it must see each
 * statement before it runs (row-changes.ts). The pieces are cut from the text as written.
 */
function execWatched(db: Db, sql: string, watch: StatementWatch | undefined): void {
  if (!watch) {
    db.exec(sql);
    return;
  }
  for (const { start, end } of splitStatements(sql)) {
    const text = sql.slice(start, end);
    const after = watch.beforeStatement(text);
    db.exec(text);
    after?.();
  }
}
