import { DataError, InternalError } from '../../../errors.js';
import { countRows } from '../../../sqlite/introspect.js';
import { openWritable, type Db } from '../../../sqlite/open.js';
import type { TableRows } from '../../driver.js';
import { rebuildTable } from '../../rebuild.js';
import { DBMATE_DIRTY_TABLE, HISTORY_TABLE, VERSION_TABLE } from '../../state.js';
import type { MigrationContext } from '../../types.js';

// A migration's connection on SQLite. Every migration gets a new connection in the same,
// checked state: a pragma one migration sets (people write `PRAGMA foreign_keys=ON` out of
// habit) must not reach the next one's table rebuild, where DROP TABLE would cascade-delete
// every child row. Foreign keys are off (set before any BEGIN: the pragma is a no-op inside a
// transaction); foreign_key_check runs before every commit instead.

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

export function openChecked(file: string, busyTimeoutMs: number): Db {
  const db = openWritable(file, busyTimeoutMs);
  // better-sqlite3 turns foreign keys on for every connection; migrations run with them off.
  db.pragma('foreign_keys = OFF');
  const off = Object.entries(CONNECTION_BASELINE).filter(([pragma, value]) => Number(db.pragma(pragma, { simple: true })) !== value);
  if (off.length > 0) {
    db.close();
    throw new InternalError('connection-state', `A new migration connection is not in its baseline state: ${off.map(([p]) => p).join(', ')}.`);
  }
  return db;
}

/** What a migration's up/down/verify receive; lint's in-memory replay uses the same. */
export function contextFor(db: Db): MigrationContext {
  return { db, exec: (sql) => db.exec(sql), rebuildTable: (table, change) => rebuildTable(db, table, change) };
}

/**
 * The context a migration's code receives, revoked when it returns: work it scheduled for
 * later (a callback, the rest of an async function) must not reach the connection after its
 * checks ran, or after dbshift rolled it back.
 */
export function revocableContext(db: Db, label: string): { ctx: MigrationContext; revoke(): void } {
  let live = true;
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
        const value = Reflect.get(object, property, object) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          guard();
          const result = (value as (...a: unknown[]) => unknown).apply(object, args);
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
  const handsOut = (value: unknown): value is object => typeof value === 'function' || (typeof value === 'object' && value !== null && value.constructor?.name === 'Statement');
  const proxy = revocable(db);
  return {
    ctx: { db: proxy, exec: (sql) => (guard(), db.exec(sql), undefined), rebuildTable: (table, change) => (guard(), rebuildTable(db, table, change)) },
    revoke: () => {
      live = false;
    },
  };
}

/** Rows of every user table but the bookkeeping; a RENAME keeps the table's b-tree, so its rootpage recognises a renamed table. */
export function tableRows(db: Db): TableRows[] {
  const tables = db
    .prepare(`SELECT name, rootpage FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT IN (?, ?, ?)`)
    .all(VERSION_TABLE, HISTORY_TABLE, DBMATE_DIRTY_TABLE) as Array<{ name: string; rootpage: number }>;
  return tables.flatMap(({ name, rootpage }) => {
    try {
      return [{ name, rows: countRows(db, name), ...(rootpage > 0 ? { identity: rootpage } : {}) }];
    } catch {
      // A virtual table whose module is not loaded here cannot be counted; nothing to compare.
      return [];
    }
  });
}
