import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshift, json, ROOT } from '../support/cli.js';
import { query } from '../support/fixtures.js';
import { freshDatabase, query as pgQuery } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';

// Issue 20.1: dbmate both ways. The real dbmate binary (a dev dependency) and dbshift take turns
// on one database, in dbmate's one-file format with its schema_migrations (one row per applied
// version, no dirty column), and each one's status agrees with the other's.

const DBMATE = path.join(ROOT, 'node_modules/.bin/dbmate');

const A = '-- migrate:up\nCREATE TABLE a (id INTEGER);\nINSERT INTO a VALUES (1);\n-- migrate:down\nDROP TABLE a;\n';
const B = '-- migrate:up transaction:false\nCREATE TABLE b (id INTEGER);\n-- migrate:down\nDROP TABLE b;\n';
const C = '-- migrate:up\nCREATE TABLE c (id INTEGER);\n-- migrate:down\nDROP TABLE c;\n';
const Z = '-- migrate:up\nCREATE TABLE z (id INTEGER);\n-- migrate:down\nDROP TABLE z;\n';

function workspace(databaseUrl: (dir: string) => string, dbshiftDatabase: (dir: string) => string) {
  const dir = tempDir();
  const migrations = path.join(dir, 'migrations');
  fs.mkdirSync(migrations);
  const dbmate = (...args: string[]) => {
    const r = spawnSync(DBMATE, ['--migrations-dir', 'migrations', '--no-dump-schema', ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl(dir) }, encoding: 'utf8' });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const run = (...args: string[]) => dbshift(args, { cwd: dir, env: { DATABASE: dbshiftDatabase(dir), MIGRATIONS_DIR: 'migrations', BACKUP_DIR: 'backups' } });
  const write = (name: string, text: string) => fs.writeFileSync(path.join(migrations, name), text);
  return { dir, dbmate, run, write };
}

/** dbmate status's [X]/[ ] lines as { file: applied }. */
function dbmateStatus(out: string): Record<string, boolean> {
  return Object.fromEntries([...out.matchAll(/^\[(X| )\] (\S+)$/gm)].map((m) => [m[2]!, m[1] === 'X']));
}

describe('dbmate and dbshift take turns on one SQLite database', () => {
  it('up, status, version, down and rollback agree both ways; a file dbmate skipped below the newest is refused, not skipped', () => {
    const w = workspace(() => 'sqlite:app.db', (dir) => path.join(dir, 'app.db'));
    const db = path.join(w.dir, 'app.db');
    w.write('001_create_a.sql', A);
    expect(w.dbmate('up').code).toBe(0);

    // dbshift continues dbmate's database: the no-transaction block runs, the row is written as the file names it.
    w.write('20240102120000_add_b.sql', B);
    const up = w.run('up', '--no-backup', '--json');
    expect(up.code, up.stderr).toBe(0);
    expect(json<{ before: { version: number }; after: { version: number } }>(up)).toMatchObject({ before: { version: 1 }, after: { version: 20240102120000 } });
    expect(query(db, 'SELECT version FROM schema_migrations ORDER BY version')).toEqual([{ version: '001' }, { version: '20240102120000' }]);
    expect(query(db, `SELECT name FROM pragma_table_info('schema_migrations')`)).toEqual([{ name: 'version' }]);
    expect(dbmateStatus(w.dbmate('status').out)).toEqual({ '001_create_a.sql': true, '20240102120000_add_b.sql': true });

    // dbmate continues dbshift's; dbshift reads what dbmate applied.
    w.write('20240103120000_add_c.sql', C);
    expect(w.dbmate('up').code).toBe(0);
    expect(w.run('version').stdout).toMatch(/^20240103120000 \(add_c\)/);

    // dbshift's down removes the row; dbmate sees it pending. dbmate's rollback; dbshift sees it.
    expect(w.run('down', '1', '--no-backup').code).toBe(0);
    expect(dbmateStatus(w.dbmate('status').out)['20240103120000_add_c.sql']).toBe(false);
    expect(w.dbmate('rollback').code).toBe(0);
    expect(w.run('version').stdout).toMatch(/^1 \(create_a\)/);
    expect(query(db, `SELECT name FROM sqlite_master WHERE name IN ('a', 'b', 'c') ORDER BY name`)).toEqual([{ name: 'a' }]);

    // dbmate applies a file below the newest (out of order): dbshift refuses it rather than skip it.
    expect(w.dbmate('up').code).toBe(0);
    w.write('20240101000000_add_z.sql', Z);
    const gap = w.run('up', '--no-backup');
    expect(gap.code).toBe(65);
    expect(gap.stderr + gap.stdout).toMatch(/20240101000000_add_z is not applied, but the version table \(dbmate's\) records version 20240103120000 above it/);
    expect(query(db, `SELECT name FROM sqlite_master WHERE name = 'z'`)).toEqual([]);
  });

  it('a new database for a dbmate project gets dbmate\'s table, which dbmate then reads', () => {
    const w = workspace(() => 'sqlite:app.db', (dir) => path.join(dir, 'app.db'));
    w.write('20240101120000_create_a.sql', A);
    w.write('20240102120000_add_b.sql', B);
    const up = w.run('up', '--create', '--no-backup');
    expect(up.code, up.stderr).toBe(0);
    expect(dbmateStatus(w.dbmate('status').out)).toEqual({ '20240101120000_create_a.sql': true, '20240102120000_add_b.sql': true });
    expect(w.dbmate('rollback').code).toBe(0);
    expect(w.run('version').stdout).toMatch(/^20240101120000 \(create_a\)/);

    // dbmate has no dirty flag: a failed no-transaction block is marked dirty beside its table, and refused until force.
    fs.rmSync(path.join(w.dir, 'migrations', '20240102120000_add_b.sql'));
    w.write('20240104120000_half.sql', '-- migrate:up transaction:false\nCREATE TABLE d (id INTEGER);\nINSERT INTO missing VALUES (1);\n-- migrate:down\nDROP TABLE d;\n');
    expect(w.run('up', '--no-backup').code).toBe(65);
    expect(w.run('version').stdout).toMatch(/^20240104120000 \(half\) DIRTY/);
    expect(w.run('up', '--no-backup').code).toBe(65);
    expect(w.run('force', '20240104120000').code).toBe(0);
    expect(query(path.join(w.dir, 'app.db'), 'SELECT version FROM schema_migrations ORDER BY version')).toEqual([{ version: '20240101120000' }, { version: '20240104120000' }]);
    expect(dbmateStatus(w.dbmate('status').out)['20240104120000_half.sql']).toBe(true);
  });
});

describe('dbmate and dbshift take turns on one PostgreSQL database', () => {
  it('dbmate up, dbshift up (a transaction:false block), dbmate status, dbshift down, dbmate up', async () => {
    const pg = await freshDatabase();
    const url = new URL(pg.url);
    url.searchParams.set('sslmode', 'disable');
    const w = workspace(() => url.toString(), () => pg.url);
    w.write('20240101120000_create_a.sql', A);
    expect(w.dbmate('up').out).toMatch(/Applied: 20240101120000_create_a\.sql/);
    w.write('20240102120000_add_b.sql', B);
    const up = w.run('up', '--no-backup');
    expect(up.code, up.stderr).toBe(0);
    expect(await pgQuery(pg.url, 'SELECT version FROM schema_migrations ORDER BY version')).toEqual([{ version: '20240101120000' }, { version: '20240102120000' }]);
    expect(dbmateStatus(w.dbmate('status').out)).toEqual({ '20240101120000_create_a.sql': true, '20240102120000_add_b.sql': true });
    expect(w.run('down', '1', '--no-backup').code).toBe(0);
    expect(dbmateStatus(w.dbmate('status').out)['20240102120000_add_b.sql']).toBe(false);
    expect(w.dbmate('up').code).toBe(0);
    expect(w.run('version').stdout).toMatch(/^20240102120000 \(add_b\)/);
  });
});
