import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, json } from '../support/cli.js';
import { query } from '../support/fixtures.js';
import { project, THREE } from '../support/project.js';

// Issue 19: what the engine reads from migration files and its history must be what is there.

interface Failed {
  ok: boolean;
  error?: { code: string; exitCode: number; message: string };
}

const LATIN1_ZURICH = Buffer.concat([Buffer.from("CREATE TABLE cities (name TEXT);\nINSERT INTO cities VALUES ('Z"), Buffer.from([0xfc]), Buffer.from("rich');\n")]);

describe('a migration file that is not valid UTF-8 is refused (66), never changed on its way to the database', () => {
  it.each([
    ['a Latin-1 SQL file', '000002_cities.up.sql', LATIN1_ZURICH, 'byte offset 62 (line 2)'],
    ['a code migration with a lone continuation byte', '000002_cities.ts', Buffer.concat([Buffer.from("export function up(ctx) { ctx.exec(\"CREATE TABLE cities (name TEXT); INSERT INTO cities VALUES ('"), Buffer.from([0x80]), Buffer.from("')\"); }\n")]), 'byte offset 97 (line 1)'],
    ['an overlong encoding of "/"', '000002_cities.up.sql', Buffer.from([0x53, 0x45, 0x4c, 0x45, 0x43, 0x54, 0x20, 0xc0, 0xaf, 0x3b]), 'byte offset 7 (line 1)'],
    ['a UTF-16 surrogate encoded as UTF-8', '000002_cities.up.sql', Buffer.concat([Buffer.from("SELECT '"), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from("';")]), 'byte offset 8 (line 1)'],
  ])('%s: up, validate and lint exit 66 naming the file and the byte offset; nothing is applied', (_label, file, bytes, where) => {
    const p = project({ '000001_users.up.sql': THREE['000001_users.up.sql'] });
    fs.writeFileSync(path.join(p.migrations, file), bytes);
    for (const args of [['up', '--create', '--no-backup'], ['validate'], ['lint']]) {
      const run = p.run(...args, '--json');
      expect(run.code, `${args[0]}: ${run.stdout}`).toBe(66);
      const error = json<Failed>(run).error!;
      expect(error.code).toBe('not-utf8');
      expect(error.message).toContain(path.join(p.migrations, file));
      expect(error.message).toContain(where);
    }
    expect(fs.existsSync(p.db)).toBe(false);
  });

  it('valid UTF-8 (with a byte-order mark, and four-byte characters) runs and is stored as written', () => {
    const p = project({ '000001_cities.up.sql': "\uFEFFCREATE TABLE cities (name TEXT);\nINSERT INTO cities VALUES ('Zürich'), ('🏥');\n" });
    expect(p.run('up', '--create', '--no-backup').code).toBe(0);
    expect(query<{ name: string }>(p.db, 'SELECT name FROM cities ORDER BY rowid').map((r) => r.name)).toEqual(['Zürich', '🏥']);
  });
});

describe('stamp (force) declares what is applied, as Alembic\'s stamp does', () => {
  it('stamp head after reverting two migrations: up does nothing, validate passes, history lists all as applied', () => {
    const p = project(THREE);
    expect(p.run('up', '--create', '--no-backup').code).toBe(0);
    expect(p.run('down', '2', '--no-backup').code).toBe(0);
    expect(p.run('stamp', 'head').code).toBe(0);
    const up = p.run('up', '--no-backup', '--json');
    expect(up.code, up.stdout).toBe(0);
    expect(json<{ steps: unknown[] }>(up).steps).toEqual([]);
    expect(p.run('validate').code).toBe(0);
    const history = json<{ migrationsStatus: Array<{ state: string }> }>(p.run('history', '--json'));
    expect(history.migrationsStatus.map((m) => m.state)).toEqual(['applied', 'applied', 'applied']);
    // What the stamp declared can still be reverted one by one, down to a real state.
    expect(p.run('force', '1').code).toBe(0);
    expect(p.run('up', '--no-backup').code).toBe(0);
    expect(query<{ n: number }>(p.db, `SELECT count(*) AS n FROM sqlite_master WHERE name IN ('tasks', 'notes')`)[0]!.n).toBe(2);
  });

  it('stamp over a migration that never ran (added below the version, then stamped): up and validate pass', () => {
    const p = project({ '000001_users.up.sql': THREE['000001_users.up.sql'], '000003_notes.up.sql': THREE['000003_notes.up.sql'] });
    expect(p.run('up', '--create', '--no-backup').code).toBe(0);
    p.write('000002_add_tasks.up.sql', THREE['000002_add_tasks.up.sql']);
    expect(p.run('up', '--no-backup').code).toBe(65);
    expect(p.run('stamp', '3').code).toBe(0);
    expect(p.run('up', '--no-backup').code).toBe(0);
    expect(p.run('validate').code).toBe(0);
  });
});

describe('one history per version table (SQLite)', () => {
  it('two services with their own --migrations-table in one file: neither sees the other\'s 000001_init; validate, up and history stay each its own', () => {
    const a = project({ '000001_init.up.sql': 'CREATE TABLE a_items (id INTEGER PRIMARY KEY);\n' });
    fs.mkdirSync(path.join(a.dir, 'b'));
    fs.writeFileSync(path.join(a.dir, 'b', '000001_init.up.sql'), 'CREATE TABLE b_items (id INTEGER PRIMARY KEY, note TEXT);\n');
    fs.writeFileSync(path.join(a.dir, 'b', '000002_more.up.sql'), 'CREATE TABLE b_more (id INTEGER PRIMARY KEY);\n');
    // Service A keeps golang-migrate's default table and a history written before version tables were told apart.
    expect(a.run('up', '--create', '--no-backup').code).toBe(0);
    const b = (...args: string[]) => a.run(...args, '--dir', 'b', '--migrations-table', 'b_migrations');
    expect(b('up', '--no-backup').code).toBe(0);
    expect(a.run('validate').code).toBe(0);
    expect(a.run('up', '--no-backup').code).toBe(0);
    expect(b('validate').code).toBe(0);
    const names = (run: ReturnType<typeof a.run>) => json<{ history: Array<{ version: number; name: string }> }>(run).history.map((h) => `${h.version} ${h.name}`);
    expect(names(a.run('history', '--json'))).toEqual(['1 init']);
    expect(names(b('history', '--json'))).toEqual(['1 init', '2 more']);
    expect(query(a.db, 'SELECT version FROM schema_migrations')).toEqual([{ version: 1 }]);
    expect(query(a.db, 'SELECT version FROM b_migrations')).toEqual([{ version: 2 }]);
    // Its own unique index: index names are per database, and golang-migrate's fixed version_unique belongs to schema_migrations.
    expect(query(a.db, `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'b_migrations'`)).toEqual([{ name: 'b_migrations_version_unique' }]);
    expect(a.run('up', '--no-backup', '--migrations-table', 'main.x').code).toBe(64);
  });
});

describe('a SQLite migration changes its own database and nothing else', () => {
  const USERS = { '000001_users.up.sql': "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\nINSERT INTO users (email) VALUES ('a@example.org');\n" };

  it.each([
    ['ATTACH', "ATTACH DATABASE 'other.db' AS o;\nCREATE TABLE o.copy AS SELECT * FROM users;\nDETACH DATABASE o;\n"],
    ['VACUUM INTO', "VACUUM INTO 'other.db';\n"],
  ])('%s in a SQL file: lint and validate never create the file it names; up refuses (66) before running anything', (_label, sql) => {
    const p = project(USERS);
    p.write('000002_copy.up.sql', sql);
    const other = path.join(p.dir, 'other.db');
    const lint = p.run('lint', '--json');
    expect(lint.stdout).toContain('outside-database');
    p.run('validate');
    expect(fs.existsSync(other)).toBe(false);
    const up = p.run('up', '--create', '--no-backup', '--json');
    expect(up.code, up.stdout).toBe(66);
    expect(json<Failed>(up).error).toMatchObject({ code: 'migration-not-runnable', message: expect.stringContaining('000002_copy.up.sql:') });
    expect(fs.existsSync(other)).toBe(false);
    expect(fs.existsSync(p.db) ? query(p.db, `SELECT name FROM sqlite_master WHERE name = 'users'`) : []).toEqual([]);
  });

  it('ATTACH by a code migration: 65, rolled back, nothing written to the other file', () => {
    const p = project(USERS);
    expect(p.run('up', '--create', '--no-backup').code).toBe(0);
    // An existing file (migrations open their database with fileMustExist, which ATTACH inherits).
    const other = path.join(p.dir, 'other.db');
    fs.writeFileSync(other, '');
    p.write('000002_copy.ts', `export function up(ctx) { ctx.exec("ATTACH DATABASE '${other}' AS o; CREATE TABLE o.copy AS SELECT * FROM users; DELETE FROM users;"); }\n`);
    const up = p.run('up', '--no-backup', '--json');
    expect(up.code, up.stdout).toBe(65);
    expect(json<Failed>(up).error!.code).toBe('outside-database');
    expect(query<{ n: number }>(p.db, 'SELECT count(*) AS n FROM users')[0]!.n).toBe(1);
    expect(query(other, `SELECT name FROM sqlite_master`)).toEqual([]);
    expect(query(p.db, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: 1, dirty: 0 }]);
  });

  it.each([
    ['SQL: PRAGMA writable_schema', '000002_hide.up.sql', "PRAGMA writable_schema = ON;\nUPDATE sqlite_master SET sql = 'CREATE TABLE users (id INTEGER PRIMARY KEY)' WHERE name = 'users';\n"],
    ['code: db.unsafeMode() then writable_schema', '000002_hide.ts', `export function up(ctx) { ctx.db.unsafeMode(true); ctx.exec("PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = 'CREATE TABLE users (id INTEGER PRIMARY KEY)' WHERE name = 'users'; PRAGMA writable_schema = OFF;"); }\n`],
  ])('%s cannot rewrite sqlite_master (a column and its data would vanish uncounted): 65, rolled back', (_label, file, body) => {
    const p = project(USERS);
    expect(p.run('up', '--create', '--no-backup').code).toBe(0);
    p.write(file, body);
    const up = p.run('up', '--no-backup');
    expect(up.code, up.stdout).toBe(65);
    expect(query<{ sql: string }>(p.db, `SELECT sql FROM sqlite_master WHERE name = 'users'`)[0]!.sql).toContain('email TEXT');
    expect(query<{ email: string }>(p.db, 'SELECT email FROM users')).toEqual([{ email: 'a@example.org' }]);
  });

  it('VACUUM runs in a no-transaction migration (and says why it cannot run inside one)', () => {
    const p = project(USERS);
    p.write('000002_vacuum.up.sql', 'VACUUM;\n');
    const inside = p.run('up', '--create', '--no-backup');
    expect(inside.code).toBe(65);
    expect(inside.stdout + inside.stderr).toMatch(/cannot VACUUM from within a transaction/);
    p.write('000002_vacuum.up.sql', '-- dbshift:no-transaction\nVACUUM;\n');
    expect(p.run('up', '--no-backup').code).toBe(0);
    expect(query<{ n: number }>(p.db, 'SELECT count(*) AS n FROM users')[0]!.n).toBe(1);
  });
});

describe('a database this user cannot write', () => {
  /** The CLI as an unprivileged user: as root (where file modes do not bind) through setpriv, as the PG test cluster runs its server. */
  function runUnprivileged(p: ReturnType<typeof project>, ...args: string[]) {
    const asRoot = process.getuid?.() === 0;
    const argv = asRoot ? ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, CLI, ...args] : [CLI, ...args];
    const run = spawnSync(asRoot ? 'setpriv' : process.execPath, argv, { cwd: p.dir, env: { PATH: process.env.PATH ?? '', HOME: '/tmp', NODE_ENV: 'test', ...p.env }, encoding: 'utf8' });
    return { code: run.status, stdout: run.stdout, stderr: run.stderr };
  }

  it('a read-only database file (mode 0444, another owner): up and force refuse with 73 before any backup; status still reads it', () => {
    const p = project(THREE);
    expect(p.run('up', '--create', '--no-backup', '1').code).toBe(0);
    fs.chmodSync(p.dir, 0o777);
    fs.chmodSync(p.migrations, 0o755);
    for (const f of fs.readdirSync(p.migrations)) fs.chmodSync(path.join(p.migrations, f), 0o644);
    fs.chmodSync(p.db, 0o444);
    const up = runUnprivileged(p, 'up', '--json');
    expect(up.code, up.stdout + up.stderr).toBe(73);
    expect(json<Failed>({ ...up, code: up.code ?? -1 }).error).toMatchObject({ code: 'database-read-only', message: expect.stringContaining(p.db) });
    expect(fs.existsSync(path.join(p.dir, 'backups')) ? fs.readdirSync(path.join(p.dir, 'backups')) : []).toEqual([]);
    expect(runUnprivileged(p, 'force', '2').code).toBe(73);
    const version = runUnprivileged(p, 'version');
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/^1 /);
  });
});
