import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diff } from '../../src/index.js';
import { json } from '../support/cli.js';
import { project } from '../support/project.js';
import { sqliteFromSql } from './sqlite-schema.js';

// The command's other ways in and out: Alembic's spelling, a live database as CURRENT, a SQLite
// file (an app's create_all) or a directory as DESIRED, --check, --dry-run, in sync, the library.

const INIT = { '000001_init.up.sql': 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n', '000001_init.down.sql': 'DROP TABLE users;\n' };
const DESIRED = 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, age INTEGER);\nCREATE INDEX ix_users_email ON users (email);\n';

describe('dbshift diff on SQLite: spellings and modes', () => {
  it('--check and --dry-run write nothing; revision --autogenerate writes the pair and its document; then in sync writes nothing (exit 0)', () => {
    const p = project(INIT);
    // The desired schema as an app's create_all left it: a SQLite file.
    sqliteFromSql(path.join(p.dir, 'app_models.db'), DESIRED);
    const before = fs.readdirSync(p.migrations).sort();

    const check = p.run('diff', '--check', '--to', 'app_models.db', '--json');
    expect(check.code).toBe(65);
    expect(json<{ error: { code: string } }>(check).error.code).toBe('schema-differs');

    const dry = p.run('diff', '--dry-run', '--to', 'app_models.db');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('DRY RUN, proven by replay');
    expect(dry.stdout).toContain('ALTER TABLE users ADD COLUMN age INTEGER;');
    expect(dry.stdout).toContain('ALTER TABLE users DROP COLUMN age;');
    expect(fs.readdirSync(p.migrations).sort()).toEqual(before);

    const revision = p.run('revision', '--autogenerate', '-m', 'Add age', '--to', 'app_models.db');
    expect(revision.code, revision.stderr).toBe(0);
    expect(revision.stdout).toContain('proven by replay');
    expect(fs.readdirSync(p.migrations).sort()).toEqual([...before, '000002_add_age.down.sql', '000002_add_age.md', '000002_add_age.up.sql'].sort());

    const again = p.run('diff', '-m', 'nothing', '--to', 'app_models.db');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('in sync (nothing to write)');
    expect(fs.readdirSync(p.migrations)).toHaveLength(5);
  }, 120_000);

  it('--from a live database and a directory of .sql files as DESIRED; the 3-digit naming style of the directory is kept', () => {
    const p = project({ '001_init.up.sql': INIT['000001_init.up.sql'], '001_init.down.sql': 'DROP TABLE users;\n' });
    expect(p.run('up', '--create').code).toBe(0);
    const live = new Database(p.db);
    live.exec('ALTER TABLE users ADD COLUMN nickname TEXT; INSERT INTO users (email) VALUES (\'a@b\')');
    live.close();
    fs.mkdirSync(path.join(p.dir, 'schema'));
    fs.writeFileSync(path.join(p.dir, 'schema', '01_users.sql'), 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, nickname TEXT);\n');
    fs.writeFileSync(path.join(p.dir, 'schema', '02_index.sql'), 'CREATE INDEX ix_users_email ON users (email);\n');
    const run = p.run('diff', '-m', 'email index', '--to', 'schema', '--from', 'app.db', '--json');
    expect(run.code, run.stdout).toBe(0);
    const result = json<{ generated: Array<{ label: string; up: string }>; changes: Array<{ summary: string }> }>(run);
    expect(result.generated.map((g) => g.label)).toEqual(['002_email_index']);
    expect(result.changes.map((c) => c.summary)).toEqual(['create index ix_users_email']);
  }, 120_000);

  it('no migrations yet: the first migration creates the whole desired schema (seed 000 used create_all at start-up)', () => {
    const p = project({});
    fs.rmSync(p.migrations, { recursive: true });
    fs.writeFileSync(path.join(p.dir, 'schema.sql'), DESIRED);
    const run = p.run('diff', '-m', 'initial schema', '--to', 'schema.sql');
    expect(run.code, run.stderr).toBe(0);
    expect(fs.readdirSync(p.migrations).sort()).toEqual(['000001_initial_schema.down.sql', '000001_initial_schema.md', '000001_initial_schema.up.sql']);
    expect(p.run('up', '--create', '--no-backup').code).toBe(0);
    expect(new Database(p.db).prepare("SELECT name FROM sqlite_master WHERE name IN ('users', 'ix_users_email') ORDER BY name").all()).toEqual([{ name: 'ix_users_email' }, { name: 'users' }]);
  }, 60_000);

  it('the library: diff() returns the plan and its findings, never throws, prints nothing', async () => {
    const p = project(INIT);
    fs.writeFileSync(path.join(p.dir, 'desired.sql'), 'CREATE TABLE users (id INTEGER PRIMARY KEY, mail TEXT);\n');
    const refused = await diff({ cwd: p.dir, dir: 'migrations', to: 'desired.sql', name: 'x' });
    expect(refused.ok).toBe(false);
    expect(refused.error?.exitCode).toBe(65);
    expect(refused.findings.map((f) => f.code)).toEqual(['possible-rename']);
    const planned = await diff({ cwd: p.dir, dir: 'migrations', to: 'desired.sql', name: 'x', dryRun: true, rename: ['users.email=mail'] });
    expect(planned.ok).toBe(true);
    expect(planned.generated[0]!.up).toContain('ALTER TABLE users RENAME COLUMN email TO mail;');
    const missing = await diff({ cwd: p.dir, dir: 'migrations', to: 'nope.sql', name: 'x' });
    expect(missing.error?.exitCode).toBe(66);
  }, 60_000);
});
