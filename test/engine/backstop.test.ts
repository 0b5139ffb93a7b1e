import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMigrationDir } from '../../src/engine/discover.js';
import { SqliteDriver } from '../../src/engine/drivers/sqlite/driver.js';
import { runVersions } from '../../src/engine/versions.js';
import { tempDir } from '../support/tmp.js';

// The row-loss backstop on SQLite (docs/safety.md), on real files: a table is followed through
// renames and drops statement by statement (a reused root page is not a rename), every way a
// row can leave a table is caught, and a table the migration never writes is never read.

const BASE = `CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT UNIQUE);
INSERT INTO books (title) VALUES ('a'), ('b'), ('c');
CREATE TABLE old_logs (id INTEGER PRIMARY KEY, line TEXT);
INSERT INTO old_logs (line) VALUES ('1'), ('2'), ('3'), ('4'), ('5');
CREATE TABLE audit_trail (id INTEGER PRIMARY KEY, what TEXT);
INSERT INTO audit_trail (what) VALUES ('x'), ('y');`;

function project(files: Record<string, string>, versionTable?: string) {
  const dir = tempDir();
  const migrations = path.join(dir, 'migrations');
  fs.mkdirSync(migrations);
  fs.writeFileSync(path.join(migrations, '000001_base.up.sql'), BASE);
  for (const [name, sql] of Object.entries(files)) fs.writeFileSync(path.join(migrations, name), sql);
  const db = path.join(dir, 'app.db');
  const up = async (count?: number) => {
    const driver = new SqliteDriver({ database: db, backupDir: path.join(dir, 'backups'), busyTimeoutMs: 5000, ...(versionTable ? { versionTable } : {}) }, { command: 'up', create: true });
    try {
      return await runVersions(driver, await loadMigrationDir(migrations), count === undefined ? { kind: 'up' } : { kind: 'up', count }, 'up', { backupDir: path.join(dir, 'backups'), backup: false });
    } finally {
      await driver.close();
    }
  };
  return { db, up };
}

/** Migration 2 on a database at 1. */
async function second(sql: string, extra: Record<string, string> = {}) {
  const p = project({ '000002_change.up.sql': sql, ...extra });
  expect((await p.up(1)).error).toBeUndefined();
  return { ...p, result: await p.up() };
}

describe('row-loss backstop on SQLite', () => {
  it('a dropped table whose root page a new table reuses is a drop and a create, not a rename', async () => {
    const { result } = await second('DROP TABLE old_logs;\nCREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);');
    expect(result.error).toBeUndefined();
    expect(result.counts).toEqual({ audit: { before: null, after: 0 }, old_logs: { before: 5, after: null } });

    // A real rename after a drop is still followed, and still may not lose rows.
    const renamed = await second('DROP TABLE old_logs;\nALTER TABLE audit_trail RENAME TO audit;\nDELETE FROM audit WHERE id = 1;');
    expect(renamed.result.error?.code).toBe('rows-lost');
    expect(renamed.result.error?.message).toContain('audit_trail (now audit) (2 -> 1)');
  });

  it('a drop + create under the same name, a trigger, INSERT OR REPLACE and a DELETE without WHERE are each caught', async () => {
    const recreated = await second('DROP TABLE books;\nCREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT);');
    expect(recreated.result.error?.message).toContain('books (3 -> 0)');

    const trigger = await second(`CREATE TRIGGER forget AFTER INSERT ON books BEGIN DELETE FROM audit_trail; END;
INSERT INTO books (title) VALUES ('d');`);
    expect(trigger.result.error?.message).toContain('audit_trail (2 -> 0)');

    // Two rows conflict with the new one (id 1, title 'b'): REPLACE deletes both, inserts one.
    const replace = await second("INSERT OR REPLACE INTO books (id, title) VALUES (1, 'b');");
    expect(replace.result.error?.message).toContain('books (3 -> 2)');

    const cleared = await second('-- dbshift:deletes-rows "OLD_LOGS"\nDELETE FROM old_logs;\nDELETE FROM audit_trail;');
    expect(cleared.result.error?.message).toContain('audit_trail (2 -> 0)');
    expect(cleared.result.error?.message).not.toContain('old_logs');
  });

  it('a code migration is watched statement by statement too: prepared statements, exec and the rebuild', async () => {
    const p = project({
      '000002_code.js': `export function up(ctx) {
  const remove = ctx.db.prepare('DELETE FROM books WHERE id = ?');
  remove.run(1);
  ctx.exec("INSERT INTO audit_trail (what) VALUES ('z'); DELETE FROM old_logs WHERE id > 3");
}
export function down() {}
`,
    });
    expect((await p.up(1)).error).toBeUndefined();
    const result = await p.up();
    expect(result.error?.code).toBe('rows-lost');
    expect(result.error?.message).toContain('books (3 -> 2)');
    expect(result.error?.message).toContain('old_logs (5 -> 3)');
  });

  it("a version table of the run's own name is bookkeeping, never a table the migration created", async () => {
    const p = project({}, 'billing_migrations');
    const result = await p.up();
    expect(result.error).toBeUndefined();
    expect(Object.keys(result.counts).sort()).toEqual(['audit_trail', 'books', 'old_logs']);
  });

  it('never reads a table the migration does not write: a big table beside it costs no reads', async () => {
    const p = project({ '000002_small.up.sql': 'CREATE TABLE notes (id INTEGER PRIMARY KEY);\nINSERT INTO audit_trail (what) VALUES (1);' });
    expect((await p.up(1)).error).toBeUndefined();
    const db = new Database(p.db);
    db.exec("CREATE TABLE big (id INTEGER PRIMARY KEY, payload BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) INSERT INTO big SELECT i, randomblob(8000) FROM n;");
    db.close();
    expect(fs.statSync(p.db).size).toBeGreaterThan(24_000_000);
    // Bytes this process reads through read(2) (the page cache included): counting `big` would read all of it.
    const readBytes = () => Number(/rchar: (\d+)/.exec(fs.readFileSync('/proc/self/io', 'utf8'))![1]);
    const before = readBytes();
    const result = await p.up();
    const read = readBytes() - before;
    expect(result.error).toBeUndefined();
    expect(result.counts).toEqual({ audit_trail: { before: 2, after: 3 }, notes: { before: null, after: 0 } });
    expect(read).toBeLessThan(8_000_000);
  });
});
