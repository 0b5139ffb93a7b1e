import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { loadMigrationDir } from '../../engine/discover.js';
import { contextFor } from '../../engine/drivers/sqlite/connection.js';
import { DataError, InputError, UsageError } from '../../errors.js';
import { openReadonly, type Db } from '../../sqlite/open.js';
import type { DiffEngine, DiffSources, Replayed } from '../engine.js';
import type { GeneratedMigration } from '../render.js';
import { introspectSqlite } from './introspect.js';
import { sqlitePlanner } from './plan.js';

// SQLite's side of diff. Every schema lives in an in-memory database: the migrations replayed
// there (as lint does), the desired .sql applied there; a live database or a desired SQLite
// file is opened read-only and only its schema (sqlite_master) is copied for the replay, so the
// proof costs what the schema costs, not what the database holds.

/** The SQL files a desired schema is made of: the file itself, or a directory's *.sql in name order. */
export function sqlFilesOf(target: string): string[] | undefined {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) throw new InputError('no-desired-schema', `The desired schema ${target} does not exist.`, { hint: 'Pass --to a .sql file, a directory of .sql files, a SQLite database or a postgres:// URL.', dataState: 'Nothing was changed.' });
  if (stat.isDirectory()) {
    const files = fs.readdirSync(target).filter((f) => f.endsWith('.sql')).sort();
    if (files.length === 0) throw new InputError('no-desired-schema', `${target} holds no .sql files.`, { dataState: 'Nothing was changed.' });
    return files.map((f) => path.join(target, f));
  }
  return target.endsWith('.sql') ? [target] : undefined;
}

function memory(): Db {
  const db = new Database(':memory:');
  db.pragma('foreign_keys = OFF');
  return db;
}

function applySql(db: Db, file: string): void {
  try {
    db.exec(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InputError('bad-desired-schema', `SQLite rejects the desired schema ${file}: ${(error as Error).message}`, { hint: 'Correct the file; it must build the schema on an empty database.', dataState: 'Nothing was changed.', cause: error });
  }
}

function openFile(file: string, what: string): Db {
  try {
    const db = openReadonly(file, 5000);
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (error) {
    throw new InputError('bad-schema-source', `${what} ${file} is not a readable SQLite database: ${(error as Error).message}`, { dataState: 'Nothing was changed.', cause: error });
  }
}

/** The schema only, copied into memory in creation order: the scratch the generated migrations are replayed on. */
function copySchema(source: Db): Db {
  const db = memory();
  const rows = source.prepare(`SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid`).all() as Array<{ sql: string }>;
  db.exec('BEGIN');
  for (const row of rows) db.exec(row.sql);
  db.exec('COMMIT');
  return db;
}

async function replayMigrations(dir: string): Promise<Db> {
  const db = memory();
  // No migrations yet: CURRENT is the empty schema, and the first migration creates everything.
  if (!fs.existsSync(dir)) return db;
  const set = await loadMigrationDir(dir);
  for (const migration of [...set.migrations].sort((a, b) => a.version - b.version)) {
    const up = migration.up;
    if (!up) continue;
    await up.load?.();
    try {
      db.exec('BEGIN');
      const result = up.run(contextFor(db));
      if (result && typeof (result as Promise<void>).then === 'function') await result;
      db.exec('COMMIT');
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.close();
      throw new DataError('replay-failed', `Replaying ${migration.files[0] ?? migration.name} on an empty database failed: ${(error as Error).message}`, { hint: 'Run `dbshift lint` and fix the migration; diff compares with what the migrations build.', dataState: 'Nothing was changed.', cause: error });
    }
  }
  return db;
}

function runFile(db: Db, sql: string, transactional: boolean, label: string): void {
  try {
    if (transactional) db.exec('BEGIN');
    db.exec(sql);
    if (transactional) db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw new DataError('diff-not-proven', `The generated ${label} fails on a scratch copy of the current schema: ${(error as Error).message}`, {
      hint: 'This is a limit of dbshift diff: write this change by hand (`dbshift create NAME`), and report the case.',
      dataState: 'Nothing was written.',
      cause: error,
    });
  }
}

export async function openSqliteDiff(sources: DiffSources): Promise<DiffEngine> {
  const opened: Db[] = [];
  const keep = (db: Db) => (opened.push(db), db);
  try {
    if (/^postgres(ql)?:\/\//i.test(sources.to) || (sources.from && /^postgres(ql)?:\/\//i.test(sources.from))) {
      throw new UsageError('mixed-dialects', 'diff compares SQLite with SQLite: a postgres:// URL needs --dialect postgres (or a postgres:// --database).', { dataState: 'Nothing was changed.' });
    }
    const files = sqlFilesOf(sources.to);
    const desiredDb = keep(files ? memory() : openFile(sources.to, 'The desired schema'));
    for (const file of files ?? []) applySql(desiredDb, file);
    const currentDb = keep(sources.from ? openFile(sources.from, 'The current database (--from)') : await replayMigrations(sources.dir));
    return {
      dialect: 'sqlite',
      planner: sqlitePlanner,
      current: async () => introspectSqlite(currentDb),
      desired: async () => introspectSqlite(desiredDb),
      async replay(migrations: GeneratedMigration[]): Promise<Replayed> {
        const scratch = copySchema(currentDb);
        try {
          for (const m of migrations) runFile(scratch, m.up, m.transactional, `${m.label}.up.sql`);
          const afterUp = introspectSqlite(scratch);
          for (const m of [...migrations].reverse()) runFile(scratch, m.down, m.transactional, `${m.label}.down.sql`);
          return { afterUp, afterDown: introspectSqlite(scratch) };
        } finally {
          scratch.close();
        }
      },
      close: async () => {
        for (const db of opened) db.close();
      },
    };
  } catch (error) {
    for (const db of opened) db.close();
    throw error;
  }
}
