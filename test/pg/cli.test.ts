import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI, dbshift, json, ROOT } from '../support/cli.js';
import { freshDatabase, PG_FIXTURES, query, writeMigrations } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';

// The CLI on PostgreSQL, as a golang-migrate user types it: seed 004's project up, down 1,
// version, up, a failing no-transaction migration, dirty, force, up; history, restore and lint.
// The password (in the URL) never appears in any output. Failures are printed on stderr.

describe('dbshift on PostgreSQL', () => {
  it('golang-migrate spellings, seed 004: up, down 1, version, up, failing CONCURRENTLY, dirty, force, up, history, restore', async () => {
    const db = await freshDatabase();
    const password = decodeURIComponent(new URL(db.url).password);
    const work = tempDir();
    const dir = path.join(work, 'migrations');
    fs.mkdirSync(dir);
    for (const f of fs.readdirSync(path.join(PG_FIXTURES, 'seed-004'))) fs.copyFileSync(path.join(PG_FIXTURES, 'seed-004', f), path.join(dir, f));
    const env = { BACKUP_DIR: path.join(work, 'backups') };
    const run = (args: string[], extra: Record<string, string> = {}) => {
      const result = dbshift(args, { cwd: work, env: { ...env, ...extra } });
      expect(result.stdout + result.stderr).not.toContain(password);
      return result;
    };

    const up = run(['-path', './migrations', '-database', db.url, 'up']);
    expect(up.stderr).toMatch(/^dbshift: backing up postgres:\/\/dbshift:\*\*\*\*@127\.0\.0\.1:\d+\/t_\w+\ndbshift: up 000001_create_codes_table\n/);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/dbshift up: OK/);
    expect(up.stdout).toMatch(/Version {3}0 -> 5/);
    expect(up.stdout).toMatch(/Backup {4}.*_backup_\d{8}_\d{6}\.dump/);
    expect(up.stdout).toMatch(/By hand: pg_restore --single-transaction --exit-on-error --dbname='postgres:\/\/dbshift:\*\*\*\*@/);
    expect(fs.existsSync(/Backup {4}(\S+)/.exec(up.stdout)![1]!)).toBe(true);

    const down = json<{ ok: boolean; after: unknown; counts: Record<string, unknown> }>(run(['down', '1', '-database', db.url, '-path', 'migrations', '--json', '--no-backup']));
    expect(down.ok).toBe(true);
    expect(down.after).toEqual({ version: 4, dirty: false });
    expect(down.counts.projects).toEqual({ before: 0, after: null });

    // A project that keeps DATABASE_URL=postgres://… in its environment: create needs no database.
    const created = run(['create', 'add_notes', '--ext', 'sql'], { DATABASE_URL: db.url, MIGRATIONS_DIR: dir });
    expect(created.code, created.stderr).toBe(0);
    expect(fs.existsSync(path.join(dir, '000006_add_notes.up.sql'))).toBe(true);
    for (const f of fs.readdirSync(dir).filter((n) => n.startsWith('000006_add_notes'))) fs.rmSync(path.join(dir, f));

    const version = run(['version'], { DATABASE_URL: db.url, MIGRATIONS_DIR: dir });
    expect(version.code).toBe(0);
    expect(version.stdout).toBe('4 (create_user_permissions_table)\n');

    expect(run(['up', '--database', db.url, '--dir', dir, '--no-backup']).code).toBe(0);
    await query(db.url, `INSERT INTO projects (uuid, name) VALUES ('a', 'same'), ('b', 'same')`);

    writeMigrations(dir, {
      '000006_unique_project_names.up.sql': 'CREATE UNIQUE INDEX CONCURRENTLY idx_projects_unique_name ON projects (name);\n',
      '000006_unique_project_names.down.sql': 'DROP INDEX CONCURRENTLY IF EXISTS idx_projects_unique_name;\n',
    });
    const failed = run(['up', '--database', db.url, '--dir', dir, '--no-backup']);
    expect(failed.code).toBe(65);
    expect(failed.stderr).toMatch(/failed +up +000006_unique_project_names +\(no transaction\)/);
    expect(failed.stderr).toMatch(/INVALID index behind: public\.idx_projects_unique_name on projects/);
    expect(failed.stderr).toMatch(/Next: Drop it \(DROP INDEX CONCURRENTLY public\.idx_projects_unique_name;\)/);
    expect(run(['version', '--database', db.url, '--dir', dir]).stdout).toBe('6 (unique_project_names) DIRTY\n');
    const refused = run(['up', '--database', db.url, '--dir', dir, '--no-backup']);
    expect(refused.code).toBe(65);
    expect(refused.stderr).toMatch(/dirty at version 6/);

    // The operator drops the invalid index, fixes the data, forces the version below and reruns.
    await query(db.url, `DROP INDEX CONCURRENTLY idx_projects_unique_name`);
    await query(db.url, `UPDATE projects SET name = 'other' WHERE uuid = 'b'`);
    const forced = run(['force', '5', '--database', db.url, '--dir', dir]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/Version 6 \(dirty\) -> 5/);
    const finished = run(['up', '--database', db.url, '--dir', dir]);
    expect(finished.code).toBe(0);
    expect(finished.stdout).toMatch(/Version {3}5 -> 6/);
    const backupAt5 = /Backup {4}(\S+)/.exec(finished.stdout)![1]!;

    const valid = run(['validate', '--database', db.url, '--dir', dir]);
    expect(valid.code).toBe(0);
    expect(valid.stdout).toMatch(/dbshift validate: OK \(6 migrations/);

    const history = run(['history', '--database', db.url, '--dir', dir]);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/\[x\] 000006_unique_project_names/);
    expect(history.stdout).toMatch(/force 000005_create_projects_table/);

    // An applied file edited afterwards: validate refuses as up would.
    fs.appendFileSync(path.join(dir, '000003_create_coderuns_table.up.sql'), '-- edited\n');
    const changed = run(['validate', '--database', db.url, '--dir', dir]);
    expect(changed.code).toBe(65);
    expect(changed.stderr).toMatch(/000003_create_coderuns_table was changed after it was applied/);

    const target = await freshDatabase('restored');
    const restored = run(['restore', backupAt5, '--to', target.url]);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/By hand: pg_restore --single-transaction --exit-on-error --dbname='postgres:\/\/dbshift:\*\*\*\*@/);
    expect(await query(target.url, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: '5', dirty: false }]);
    const again = run(['restore', backupAt5, '--to', target.url]);
    expect(again.code).toBe(73);
    expect(again.stderr).toMatch(/--clean/);
  });

  it('two concurrent up: one applies, the other exits 75 naming the holder pid; with --wait it waits', async () => {
    const db = await freshDatabase();
    const work = tempDir();
    const dir = writeMigrations(path.join(work, 'm'), {
      '000001_slow.up.sql': 'CREATE TABLE t (id int);\nSELECT pg_sleep(4);\n',
      '000001_slow.down.sql': 'DROP TABLE t;\n',
    });
    const { spawn } = await import('node:child_process');
    const { CLI } = await import('../support/cli.js');
    const { collect } = await import('../support/process.js');
    const first = spawn(process.execPath, [CLI, 'up', '--database', db.url, '--dir', dir, '--no-backup', '--json'], { cwd: work, env: { PATH: process.env.PATH ?? '' } });
    const firstDone = collect(first);
    // Once the first run sleeps inside its migration, it holds the lock for 4 s.
    for (let i = 0; ; i++) {
      if ((await query(db.url, `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(4)%' AND state = 'active' AND pid <> pg_backend_pid()`)).length > 0) break;
      if (i > 400) throw new Error('the first run never reached its migration');
      await new Promise((r) => setTimeout(r, 50));
    }
    const waiter = spawn(process.execPath, [CLI, 'up', '--database', db.url, '--dir', dir, '--no-backup', '--json', '--wait', '30'], { cwd: work, env: { PATH: process.env.PATH ?? '' } });
    const waiterDone = collect(waiter);
    const busy = dbshift(['up', '--database', db.url, '--dir', dir, '--no-backup'], { cwd: work });
    expect(busy.code).toBe(75);
    expect(busy.stderr).toMatch(/holds the migration lock .*: pid \d+ \(dbshift\)/);
    expect(busy.stderr).toMatch(/--wait/);
    const [a, b] = [await firstDone, await waiterDone];
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout).notices).toEqual(['No change: the database is at version 1.']);
    expect(await query(db.url, `SELECT count(*)::int AS n FROM dbshift_history`)).toEqual([{ n: 1 }]);
  });

  it('lint --database postgres://…: the parser’s rules and the replay, exit 65 with file, line and fix', async () => {
    const dir = writeMigrations(tempDir(), {
      '000001_users.up.sql': 'CREATE TABLE users (id bigint PRIMARY KEY, created_at timestamp NOT NULL);\n',
      '000001_users.down.sql': 'DROP TABLE users;\n',
      '000002_posts.up.sql': 'CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id));\nCREATE INDEX ix_posts_user ON posts (usr_id);\n',
      '000002_posts.down.sql': 'DROP TABLE posts;\n',
    });
    const db = await freshDatabase();
    const lint = dbshift(['lint', '--database', db.url, '--dir', dir], { cwd: dir });
    expect(lint.code).toBe(65);
    expect(lint.stdout).toMatch(/000001_users\.up\.sql:1 {2}\[timestamp-without-time-zone\]/);
    expect(lint.stdout).toMatch(/000002_posts\.up\.sql:1 {2}\[foreign-key-without-on-delete\]/);
    expect(lint.stdout).toMatch(/000002_posts\.up\.sql:2 {2}\[sql-error\] PostgreSQL rejects this statement .*column "usr_id" does not exist/);
    expect(lint.stdout).toMatch(/fix: Use timestamptz/);

    // Without a server, asked to: the same rules, and the replay on PostgreSQL embedded in dbshift (PGlite).
    const embedded = dbshift(['lint', '--dialect', 'postgres', '--embedded', '--dir', dir, '--json'], { cwd: dir });
    expect(embedded.code).toBe(65);
    const findings = json<{ findings: Array<{ file: string; line: number; rule: string }> }>(embedded).findings.map((f) => `${f.file}:${f.line} ${f.rule}`);
    expect(findings).toEqual(json<{ findings: Array<{ file: string; line: number; rule: string }> }>(dbshift(['lint', '--database', db.url, '--dir', dir, '--json'], { cwd: dir })).findings.map((f) => `${f.file}:${f.line} ${f.rule}`));
    expect(findings).toContain('000002_posts.up.sql:2 sql-error');
    expect(dbshift(['lint', '--dialect', 'oracle', '--dir', dir], { cwd: dir }).code).toBe(64);
    // PGlite takes tens of seconds on a loaded machine.
  }, 240_000);
});


describe('what a PostgreSQL command loads', () => {
  /** dbshift's own modules and the packages a command line loads (ESM resolutions, through a loader hook that lists them). */
  function loaded(cwd: string, args: string[]): string[] {
    const log = path.join(cwd, 'loaded.txt');
    fs.rmSync(log, { force: true });
    const hook = path.join(cwd, 'hook.mjs');
    fs.writeFileSync(hook, `import fs from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); if (!r.url.startsWith('node:')) fs.appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }\n`);
    const register = path.join(cwd, 'register.mjs');
    fs.writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`);
    const run = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, CLI, ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } });
    expect(run.status, run.stderr).toBe(0);
    return [...new Set(fs.readFileSync(log, 'utf8').trim().split('\n'))].map((url) => path.relative(ROOT, new URL(url).pathname));
  }

  it('version reads the version table: no parser, no lint, no SQLite; up loads the parser and the lint it runs', async () => {
    const db = await freshDatabase();
    const work = tempDir();
    const dir = writeMigrations(path.join(work, 'migrations'), { '000001_a.up.sql': 'CREATE TABLE a (id bigint PRIMARY KEY);', '000001_a.down.sql': 'DROP TABLE a;' });
    const up = loaded(work, ['up', '--database', db.url, '--dir', dir, '--no-backup']);
    expect(up.some((f) => f.includes('node_modules/libpg-query/'))).toBe(true);
    expect(up).toContain('dist/engine/drivers/postgres/lint.js');
    const version = loaded(work, ['version', '--database', db.url, '--dir', dir]);
    expect(version.some((f) => f.includes('node_modules/pg/'))).toBe(true);
    expect(version.filter((f) => /better-sqlite3|libpg-query|pglite|[/]lint\.js|drivers\/sqlite\//.test(f))).toEqual([]);
  });
});
