import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshift, json } from '../support/cli.js';
import { freshDatabase, query, writeMigrations } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';

// Issue 19 on PostgreSQL: a restore makes the database what the backup holds, one history per
// version table, migration files read byte for byte.

function cli(work: string) {
  return (...args: string[]) => dbshift(args, { cwd: work, env: { BACKUP_DIR: path.join(work, 'backups') } });
}

async function tables(url: string): Promise<string[]> {
  const rows = await query<{ name: string }>(url, `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`);
  return rows.map((r) => r.name);
}

describe('restore over the database a backup was taken from', () => {
  it('the To undo line up prints works as printed: objects created after the backup are gone, the version goes back, the next up runs; the replaced content is kept', async () => {
    const db = await freshDatabase();
    const work = tempDir();
    const run = cli(work);
    const dir = writeMigrations(path.join(work, 'm'), { '000001_users.up.sql': "CREATE TABLE users (id int PRIMARY KEY, name text);\nINSERT INTO users VALUES (1, 'ada');\n" });
    expect(run('up', '--database', db.url, '--dir', dir, '--no-backup').code).toBe(0);
    writeMigrations(dir, {
      '000002_tasks.up.sql': 'CREATE TABLE tasks (id int);\nCREATE SCHEMA reports;\nCREATE TABLE reports.daily (day date);\nCREATE VIEW user_names AS SELECT name FROM users;\n',
      '000002_tasks.down.sql': 'DROP VIEW user_names;\nDROP TABLE reports.daily;\nDROP SCHEMA reports;\nDROP TABLE tasks;\n',
    });
    const up = run('up', '--database', db.url, '--dir', dir);
    expect(up.code, up.stderr).toBe(0);
    const undo = /To undo: (.*)$/m.exec(up.stdout)![1]!;
    const backup = /Backup {4}(\S+)/.exec(up.stdout)![1]!;
    const shown = db.url.replace(/:[^:@/]+@/, ':****@');
    expect(undo).toBe(`dbshift restore ${backup} --to '${shown}' --clean`);
    await query(db.url, `INSERT INTO users VALUES (2, 'written after the backup')`);

    // As printed, with the password the mask stands for.
    const restored = run('restore', backup, '--to', db.url, '--clean', '--json');
    expect(restored.code, restored.stdout + restored.stderr).toBe(0);
    expect(await tables(db.url)).toEqual(['public.dbshift_history', 'public.schema_migrations', 'public.users']);
    expect(await query(db.url, 'SELECT id, name FROM users')).toEqual([{ id: 1, name: 'ada' }]);
    expect(await query(db.url, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: '1', dirty: false }]);
    expect(run('up', '--database', db.url, '--dir', dir, '--no-backup').code).toBe(0);
    expect(await tables(db.url)).toEqual(['public.dbshift_history', 'public.schema_migrations', 'public.tasks', 'public.user_names', 'public.users', 'reports.daily']);

    // What the database held before the restore was dumped first, and can be restored elsewhere.
    const notices = json<{ notices: string[] }>(restored).notices.join('\n');
    const replaced = /kept as (\S+\.dump);/.exec(notices)![1]!;
    expect(fs.existsSync(`${replaced}.sha256`)).toBe(true);
    const elsewhere = await freshDatabase('replaced');
    expect(run('restore', replaced, '--to', elsewhere.url).code).toBe(0);
    expect(await query(elsewhere.url, 'SELECT count(*)::int AS n FROM users')).toEqual([{ n: 2 }]);
    expect(await tables(elsewhere.url)).toContain('reports.daily');
  });

  it('a restore that fails half-way changes nothing (one transaction): what was dropped first is all still there; 65', async () => {
    const db = await freshDatabase();
    const work = tempDir();
    const run = cli(work);
    const role = `gone_${db.name}`;
    const dir = writeMigrations(path.join(work, 'm'), { '000001_users.up.sql': 'CREATE TABLE users (id int PRIMARY KEY);\n' });
    expect(run('up', '--database', db.url, '--dir', dir, '--no-backup').code).toBe(0);
    // The backup names an owner that will no longer exist when it is restored.
    await query(db.url, `CREATE ROLE ${role}; ALTER TABLE users OWNER TO ${role}`);
    writeMigrations(dir, { '000002_more.up.sql': 'CREATE TABLE more (id int);\n' });
    const up = run('up', '--database', db.url, '--dir', dir);
    expect(up.code).toBe(0);
    const backup = /Backup {4}(\S+)/.exec(up.stdout)![1]!;
    await query(db.url, `REASSIGN OWNED BY ${role} TO CURRENT_USER; DROP ROLE ${role}`);
    const failed = run('restore', backup, '--to', db.url, '--clean', '--json');
    expect(failed.code, failed.stdout).toBe(65);
    expect(json<{ error: { code: string; dataState: string } }>(failed).error).toMatchObject({ code: 'restore-failed', dataState: expect.stringContaining('Nothing was changed') });
    expect(await tables(db.url)).toEqual(['public.dbshift_history', 'public.more', 'public.schema_migrations', 'public.users']);
    expect(await query(db.url, 'SELECT version::int FROM schema_migrations')).toEqual([{ version: 2 }]);
  });
});

describe('one history per version table', () => {
  it('two services with their own version tables in one schema: neither sees the other\'s 000001_init; validate, up and history stay each its own', async () => {
    const db = await freshDatabase();
    const work = tempDir();
    const run = cli(work);
    const a = writeMigrations(path.join(work, 'a'), { '000001_init.up.sql': 'CREATE TABLE a_items (id int);\n' });
    const b = writeMigrations(path.join(work, 'b'), { '000001_init.up.sql': 'CREATE TABLE b_items (id int, note text);\n', '000002_more.up.sql': 'CREATE TABLE b_more (id int);\n' });
    const serviceA = `${db.url}?x-migrations-table=a_migrations`;
    const serviceB = `${db.url}?x-migrations-table=b_migrations`;
    expect(run('up', '--database', serviceA, '--dir', a, '--no-backup').code).toBe(0);
    expect(run('up', '--database', serviceB, '--dir', b, '--no-backup').code).toBe(0);
    for (const [url, dir] of [[serviceA, a], [serviceB, b]] as const) {
      expect(run('validate', '--database', url, '--dir', dir).code).toBe(0);
      expect(run('up', '--database', url, '--dir', dir, '--no-backup').code).toBe(0);
    }
    const historyOf = (url: string, dir: string) => json<{ history: Array<{ version: number; name: string; checksum: string }> }>(run('history', '--database', url, '--dir', dir, '--json')).history.map((h) => `${h.version} ${h.name}`);
    expect(historyOf(serviceA, a)).toEqual(['1 init']);
    expect(historyOf(serviceB, b)).toEqual(['1 init', '2 more']);
    // The same with --migrations-table, and a stamp in one service leaves the other's history alone.
    expect(run('force', '1', '--database', db.url, '--migrations-table', 'b_migrations', '--dir', b).code).toBe(0);
    expect(historyOf(serviceA, a)).toEqual(['1 init']);
  });

  it('a history written before it was keyed: adopted by the schema\'s only version table; with two version tables, read by neither', async () => {
    const db = await freshDatabase();
    const work = tempDir();
    const run = cli(work);
    const a = writeMigrations(path.join(work, 'a'), { '000001_init.up.sql': 'CREATE TABLE a_items (id int);\n' });
    const serviceA = `${db.url}?x-migrations-table=a_migrations`;
    expect(run('up', '--database', serviceA, '--dir', a, '--no-backup').code).toBe(0);
    await query(db.url, 'ALTER TABLE dbshift_history DROP COLUMN version_table');
    // One version table: its history, read before and after the next writer keys it.
    fs.appendFileSync(path.join(a, '000001_init.up.sql'), '-- edited after it was applied\n');
    expect(run('validate', '--database', serviceA, '--dir', a).code).toBe(65);
    fs.writeFileSync(path.join(a, '000001_init.up.sql'), 'CREATE TABLE a_items (id int);\n');
    writeMigrations(a, { '000002_next.up.sql': 'CREATE TABLE a_next (id int);\n' });
    expect(run('up', '--database', serviceA, '--dir', a, '--no-backup').code).toBe(0);
    expect(await query(db.url, 'SELECT version_table, version::int FROM dbshift_history ORDER BY id')).toEqual([
      { version_table: 'a_migrations', version: 1 },
      { version_table: 'a_migrations', version: 2 },
    ]);

    // Two services' rows, unkeyed: which wrote which cannot be told, so neither refuses over the other's.
    const b = writeMigrations(path.join(work, 'b'), { '000001_init.up.sql': 'CREATE TABLE b_items (id int, note text);\n' });
    const serviceB = `${db.url}?x-migrations-table=b_migrations`;
    expect(run('up', '--database', serviceB, '--dir', b, '--no-backup').code).toBe(0);
    await query(db.url, 'ALTER TABLE dbshift_history DROP COLUMN version_table');
    expect(run('validate', '--database', serviceA, '--dir', a).code).toBe(0);
    expect(run('up', '--database', serviceB, '--dir', b, '--no-backup').code).toBe(0);
    expect(run('validate', '--database', serviceB, '--dir', b).code).toBe(0);
  });
});

describe('migration files are read byte for byte on PostgreSQL too', () => {
  it('a Latin-1 SQL file and a code migration with an invalid byte: 66 naming the file and offset, nothing applied', async () => {
    const db = await freshDatabase();
    const work = tempDir();
    const run = cli(work);
    for (const [file, bytes] of [
      ['000001_cities.up.sql', Buffer.concat([Buffer.from("CREATE TABLE cities (name text);\nINSERT INTO cities VALUES ('Z"), Buffer.from([0xfc]), Buffer.from("rich');\n")])],
      ['000001_cities.ts', Buffer.concat([Buffer.from('export async function up(ctx) { await ctx.query("CREATE TABLE cities (name text)"); } // '), Buffer.from([0xff]), Buffer.from('\n')])],
    ] as const) {
      const dir = path.join(work, file);
      writeMigrations(dir, {});
      fs.writeFileSync(path.join(dir, file), bytes);
      const up = run('up', '--database', db.url, '--dir', dir, '--no-backup', '--json');
      expect(up.code, up.stdout).toBe(66);
      expect(json<{ error: { code: string; message: string } }>(up).error).toMatchObject({ code: 'not-utf8', message: expect.stringMatching(new RegExp(`${file}.*byte offset \\d+`)) });
      expect(await tables(db.url)).toEqual([]);
    }
  });
});
