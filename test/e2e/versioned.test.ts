import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshift, json } from '../support/cli.js';
import { query, workspace } from '../support/fixtures.js';
import { project } from '../support/project.js';

// The versioned commands end to end, as child processes on real files.

interface VersionsJson {
  ok: boolean;
  before?: { version: number; dirty: boolean };
  after?: { version: number; dirty: boolean };
  steps: Array<{ version: number; direction: string; status: string; sql?: string; summary?: unknown; checks?: Array<{ ok: boolean }> }>;
  backup: { path: string; sha256: string } | null;
  counts: Record<string, { before: number | null; after: number | null }>;
  warnings: Array<{ rule: string }>;
  error?: { code: string; exitCode: number; message: string };
}

const TWO = {
  '000001_users.up.sql': 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);',
  '000001_users.down.sql': 'DROP TABLE users;',
  '000002_posts.up.sql': 'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id) ON DELETE CASCADE);\nCREATE INDEX ix_posts_user_id ON posts (user_id);',
  '000002_posts.down.sql': 'DROP TABLE posts;',
};

describe('versioned commands', () => {
  it('refuses a missing database unless --create (66), and --dry-run prints the SQL and creates nothing', () => {
    const p = project(TWO);
    const missing = p.run('up', '--json');
    expect(missing.code).toBe(66);
    expect(json<VersionsJson>(missing).error?.code).toBe('missing-database');
    expect(p.run('up', '--database', 'typo/app.db').code).toBe(66);
    expect(fs.existsSync(path.join(p.dir, 'typo'))).toBe(false);
    const dry = p.run('up', '--create', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    expect(json<VersionsJson>(dry).steps.map((s) => [s.version, s.status, s.sql])).toEqual([
      [1, 'planned', TWO['000001_users.up.sql']],
      [2, 'planned', TWO['000002_posts.up.sql']],
    ]);
    expect(fs.existsSync(p.db)).toBe(false);
  });

  it('writes golang-migrate\'s schema_migrations, and continues a database golang-migrate left at version 1', () => {
    const p = project(TWO);
    // What golang-migrate's sqlite3 driver creates and writes after applying 000001.
    const db = new Database(p.db);
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);
             CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);
             CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
             INSERT INTO schema_migrations (version, dirty) VALUES (1, 0);`);
    db.close();
    const up = p.run('up', '--json');
    expect(up.code, up.stdout).toBe(0);
    expect(json<VersionsJson>(up).steps.map((s) => `${s.direction} ${s.version} ${s.status}`)).toEqual(['up 2 applied']);
    // The rows of the tables the run changed (created ones included), as on PostgreSQL: a table it never wrote is not counted.
    expect(json<VersionsJson>(up).counts).toEqual({ posts: { before: null, after: 0 } });
    expect(query(p.db, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: 2, dirty: 0 }]);
    expect(query(p.db, `SELECT sql FROM sqlite_master WHERE name = 'schema_migrations'`)).toEqual([{ sql: 'CREATE TABLE schema_migrations (version uint64,dirty bool)' }]);
    // And back down past what golang-migrate applied: the protocol is the same.
    const down = p.run('down', '--all');
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/Rows \(before -> after\)\n {4}posts +0 -> -\n {4}users +0 -> -/);
    expect(query(p.db, 'SELECT count(*) AS n FROM schema_migrations')).toEqual([{ n: 0 }]);
    expect(p.run('version').stdout.trim()).toBe('0 (nothing applied)');
  });

  it('refuses (naming them) a deleted applied migration (66) and a new one numbered below the current version (65)', () => {
    const p = project(TWO);
    expect(p.run('up', '--create').code).toBe(0);
    fs.renameSync(path.join(p.migrations, '000002_posts.up.sql'), path.join(p.dir, 'aside.up.sql'));
    fs.renameSync(path.join(p.migrations, '000002_posts.down.sql'), path.join(p.dir, 'aside.down.sql'));
    const missing = p.run('up', '--json');
    expect(missing.code).toBe(66);
    expect(json<VersionsJson>(missing).error?.message).toMatch(/000002_posts is applied but its files are gone/);
    fs.renameSync(path.join(p.dir, 'aside.up.sql'), path.join(p.migrations, '000002_posts.up.sql'));
    fs.renameSync(path.join(p.dir, 'aside.down.sql'), path.join(p.migrations, '000002_posts.down.sql'));

    p.write('000003_tags.up.sql', 'CREATE TABLE tags (id INTEGER PRIMARY KEY);');
    p.write('000003_tags.down.sql', 'DROP TABLE tags;');
    expect(p.run('up').code).toBe(0);
    // A branch merged late: 000003 exists only from a later checkout than 000004.
    p.write('000004_b.up.sql', 'CREATE TABLE b (id INTEGER PRIMARY KEY);');
    p.write('000004_b.down.sql', 'DROP TABLE b;');
    expect(p.run('goto', '4').code).toBe(0);
    expect(p.run('goto', '2').code).toBe(0);
    fs.unlinkSync(path.join(p.migrations, '000003_tags.up.sql'));
    fs.unlinkSync(path.join(p.migrations, '000003_tags.down.sql'));
    expect(p.run('up').code).toBe(0);
    p.write('000003_tags.up.sql', 'CREATE TABLE tags (id INTEGER PRIMARY KEY);');
    p.write('000003_tags.down.sql', 'DROP TABLE tags;');
    const late = p.run('up', '--json');
    expect(late.code).toBe(65);
    expect(json<VersionsJson>(late).error).toMatchObject({ code: 'migration-out-of-order' });
    expect(json<VersionsJson>(late).error?.message).toMatch(/000003_tags is pending but numbered below the current version 4/);
  });

  it('Alembic words: upgrade head / +1, downgrade -1 / base, current', () => {
    const p = project(TWO);
    fs.writeFileSync(p.db, '');
    expect(p.run('upgrade', '+1').code).toBe(0);
    expect(p.run('current').stdout.trim()).toBe('1 (users)');
    expect(p.run('upgrade', 'head').code).toBe(0);
    expect(p.run('current').stdout.trim()).toBe('2 (posts)');
    const downOne = p.run('downgrade', '-1');
    expect(downOne.code, downOne.stderr).toBe(0);
    expect(p.run('current').stdout.trim()).toBe('1 (users)');
    expect(p.run('down').code).toBe(64); // the last one needs --all (or downgrade base)
    expect(p.run('downgrade', 'base').code).toBe(0);
    expect(p.run('current').stdout.trim()).toBe('0 (nothing applied)');
  });

  it('one runner at a time: a held lock refuses with 75, and a failing run releases its lock', () => {
    const p = project({ ...TWO, '000003_bad.up.sql': 'CREATE TABLE x (id INTEGER);\nINSERT INTO nowhere VALUES (1);', '000003_bad.down.sql': 'DROP TABLE x;' });
    fs.writeFileSync(p.db, '');
    expect(p.run('up').code).toBe(65);
    expect(fs.existsSync(path.join(p.dir, '.dbshift.lock'))).toBe(false);
    fs.writeFileSync(path.join(p.dir, '.dbshift.lock'), JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: 'now', command: 'up' }));
    const busy = p.run('up', '--json');
    expect(busy.code).toBe(75);
    expect(query(p.db, 'SELECT version FROM schema_migrations')).toEqual([{ version: 2 }]);
  });

  it('a code migration must be synchronous: an async up is refused before anything runs', () => {
    const p = project({
      '000001_async.ts': `export async function up(ctx: { exec(sql: string): void }): Promise<void> { ctx.exec('CREATE TABLE t (id INTEGER)'); }\nexport function down() {}\n`,
    });
    fs.writeFileSync(p.db, '');
    const run = p.run('up', '--json');
    expect(run.code).toBe(66);
    expect(json<VersionsJson>(run).error?.message).toMatch(/up\(\) is async/);
    expect(query(p.db, `SELECT count(*) AS n FROM sqlite_master WHERE name = 't'`)).toEqual([{ n: 0 }]);
  });

  it('a migration that leaves orphans (foreign keys are off during runs) is rolled back by the foreign-key check', () => {
    const p = project({ ...TWO, '000003_orphans.up.sql': 'INSERT INTO posts (id, user_id) VALUES (1, 999);', '000003_orphans.down.sql': 'DELETE FROM posts WHERE id = 1;' });
    fs.writeFileSync(p.db, '');
    const run = p.run('up', '--json');
    expect(run.code).toBe(65);
    expect(json<VersionsJson>(run).error?.code).toBe('foreign-key-violation');
    expect(query(p.db, 'SELECT count(*) AS n FROM posts')).toEqual([{ n: 0 }]);
    expect(query(p.db, 'SELECT version FROM schema_migrations')).toEqual([{ version: 2 }]);
  });
});

describe('the built-in health-records set', () => {
  it('runs up, down and up again on a sample, with the summary dbshift migrate reports', () => {
    const ws = workspace({ reports: 400, messy: true });
    const engineDb = path.join(ws.dir, 'engine.db');
    fs.copyFileSync(ws.old, engineDb);
    const before = query(ws.old, `SELECT type, name, sql FROM sqlite_master ORDER BY name`);
    const env = { ...ws.env, DATABASE: engineDb };
    const migrate = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(migrate.code, migrate.stdout).toBe(0);
    const migrateSummary = json<{ summary: unknown }>(migrate).summary;

    const up = dbshift(['up', '--set', 'health-records', '--json'], { cwd: ws.dir, env });
    expect(up.code, up.stdout).toBe(0);
    const upResult = json<VersionsJson>(up);
    expect(upResult.steps[0]?.summary).toEqual(migrateSummary);
    expect(upResult.steps[0]?.checks?.every((c) => c.ok)).toBe(true);

    const down = dbshift(['down', '--all', '--set', 'health-records', '--json'], { cwd: ws.dir, env });
    expect(down.code, down.stdout).toBe(0);
    // Exactly what v5 added is gone: every other object and its SQL is as before.
    const bookkeeping = new Set(['schema_migrations', 'dbshift_history', 'version_unique']);
    expect(query<{ name: string }>(engineDb, `SELECT type, name, sql FROM sqlite_master ORDER BY name`).filter((o) => !bookkeeping.has(o.name))).toEqual(before);

    const again = dbshift(['up', '--set', 'health-records', '--json'], { cwd: ws.dir, env });
    expect(again.code, again.stdout).toBe(0);
    expect(json<VersionsJson>(again).steps[0]?.summary).toEqual(migrateSummary);
    // migrate recorded the same version in its published file: the engine sees nothing to do there.
    const onTarget = dbshift(['up', '--set', 'health-records', '--database', ws.target, '--json'], { cwd: ws.dir, env: ws.env });
    expect(json<VersionsJson>(onTarget).steps).toEqual([]);
    expect(query(ws.target, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: 1, dirty: 0 }]);
  });
});
