import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshift, json } from '../support/cli.js';
import { listDir, query, sha256, workspace } from '../support/fixtures.js';
import { project, THREE } from '../support/project.js';

// Issue 10.5: backup, backups, restore and verify work for any database, not only HealthSum.

interface ListJson {
  backups: Array<{ database: string; path: string; checksum: string }>;
  removed?: Array<{ path: string }>;
}
interface RunJson {
  ok: boolean;
  status: string;
  source: string;
  target: string;
  backup: { path: string } | null;
  checks: Array<{ name: string; ok: boolean; detail: string }>;
  error?: { code: string; exitCode: number; message: string; hint?: string };
}

/** A versioned project at version 3 with `n` backups of app.db taken by up/down. */
function withAppBackups(n: number) {
  const p = project(THREE);
  expect(p.run('up', '--create', '--no-backup').code).toBe(0);
  for (let i = 0; i < n; i++) expect(p.run(i % 2 === 0 ? 'down' : 'up').code).toBe(0);
  return p;
}

describe('one backup-naming rule, every command', () => {
  it('backups lists every backup in BACKUP_DIR grouped by database: app_backup_* beside health_records_backup_*', () => {
    const p = withAppBackups(2);
    const env = { ...p.env, DATABASE: '', SECRET_KEY: 'k' };
    // A HealthSum backup in the same directory, by `backup` of the hand copy.
    const ws = workspace({ reports: 20 });
    fs.mkdirSync(path.join(p.dir, 'instance'));
    fs.copyFileSync(ws.old, path.join(p.dir, 'instance', 'health_records_old.db'));
    expect(dbshift(['backup'], { cwd: p.dir, env }).code).toBe(0);
    const listed = json<ListJson>(p.run('backups', '--json'));
    expect(listed.backups.map((b) => [b.database, path.basename(b.path).replace(/\d{8}_\d{6}(_\d+)?/, 'STAMP'), b.checksum])).toEqual([
      ['app', 'app_backup_STAMP.db', 'ok'],
      ['app', 'app_backup_STAMP.db', 'ok'],
      ['health_records', 'health_records_backup_STAMP.db', 'ok'],
    ]);
    const text = p.run('backups').stdout;
    expect(text).toMatch(/^ {2}app \(newest first\)$/m);
    expect(text).toMatch(/^ {2}health_records \(newest first\)$/m);
  });

  it('backup --source app.db writes app_backup_* and creates no instance/', () => {
    const p = project(THREE);
    expect(p.run('up', '--create', '--no-backup').code).toBe(0);
    const run = p.run('backup', '--source', 'app.db', '--json');
    expect(run.code, run.stdout).toBe(0);
    const result = json<RunJson>(run);
    expect(path.basename(result.backup!.path)).toMatch(/^app_backup_\d{8}_\d{6}\.db$/);
    expect(query(result.backup!.path, 'SELECT version FROM schema_migrations')).toEqual([{ version: 3 }]);
    expect(fs.existsSync(path.join(p.dir, 'instance'))).toBe(false);
    expect(run.stdout).not.toMatch(/health_records|instance/);
  });

  it('backups --prune --keep N keeps the newest N verified per database and says what it removed', () => {
    const p = withAppBackups(4);
    const before = json<ListJson>(p.run('backups', '--json')).backups.map((b) => b.path); // newest first
    expect(before).toHaveLength(4);
    expect(p.run('backups', '--prune').code).toBe(64);
    expect(p.run('backups', '--prune', '--keep', '0').code).toBe(64);
    expect(p.run('backups', '--keep', '1').code).toBe(64);
    // The newest is damaged: it does not count towards N, and is not removed either.
    fs.appendFileSync(before[0]!, 'damaged');
    const pruned = p.run('backups', '--prune', '--keep', '1', '--json');
    expect(pruned.code).toBe(0);
    expect(json<ListJson>(pruned).removed!.map((r) => r.path)).toEqual(before.slice(2));
    expect(json<ListJson>(p.run('backups', '--json')).backups.map((b) => b.path)).toEqual(before.slice(0, 2));
    for (const gone of before.slice(2)) expect(fs.existsSync(`${gone}.sha256`)).toBe(false);
    const text = p.run('backups', '--prune', '--keep', '5');
    expect(text.stdout).toMatch(/Removed nothing/);
    expect(listDir(path.join(p.dir, 'backups')).filter((n) => n.endsWith('.db'))).toHaveLength(2);
  });

  it('backups --prune beside a running up: the backup it is writing (a hidden partial file, then the newest file before its .sha256) is never removed', () => {
    const p = withAppBackups(3);
    const dir = path.join(p.dir, 'backups');
    const before = json<ListJson>(p.run('backups', '--json')).backups.map((b) => b.path); // newest first
    // The two moments of an up's backup that a concurrent prune can see: the copy still being
    // written under a hidden temporary name, and the published file whose checksum is not written yet.
    const writing = path.join(dir, `.${path.basename(before[0]!).replace(/\d{8}_\d{6}/, '20991231_235959')}.partial.dbshift-tmp`);
    fs.copyFileSync(before[0]!, writing);
    const published = before[0]!.replace(/\d{8}_\d{6}/, '20991231_235958');
    fs.copyFileSync(before[0]!, published);
    const pruned = p.run('backups', '--prune', '--keep', '1', '--json');
    expect(pruned.code, pruned.stderr).toBe(0);
    const removed = json<ListJson>(pruned).removed!.map((r) => r.path);
    expect(removed).not.toContain(published);
    expect(fs.existsSync(writing)).toBe(true);
    expect(fs.existsSync(published)).toBe(true);
    // The newest verified backup is kept too: the unverified newer one does not count towards N.
    expect(fs.existsSync(before[0]!)).toBe(true);
    expect(removed).toEqual(before.slice(1));
  });
});

describe('restore: the newest verified backup of the database it targets', () => {
  it('honours DATABASE, brings app.db back byte for byte and names only the paths it used', () => {
    const p = withAppBackups(1); // down: backup of app.db at version 3
    const backup = json<ListJson>(p.run('backups', '--json')).backups[0]!.path;
    const run = p.run('restore', '--json');
    expect(run.code, run.stdout).toBe(0);
    const result = json<RunJson>(run);
    expect(result.backup?.path).toBe(backup);
    expect(result.target).toBe(p.db);
    expect(sha256(p.db)).toBe(sha256(backup));
    expect(query(p.db, 'SELECT version FROM schema_migrations')).toEqual([{ version: 3 }]);
    expect(listDir(path.join(p.dir, 'backups')).some((n) => /^app_replaced_\d{8}_\d{6}\.db$/.test(n))).toBe(true);
    expect(run.stdout + run.stderr).not.toMatch(/health_records|instance/);
    expect(fs.existsSync(path.join(p.dir, 'instance'))).toBe(false);
  });

  it('without a backup of that database, says so and names the ones there are', () => {
    const p = withAppBackups(1);
    const run = dbshift(['restore', '--to', 'other.db'], { cwd: p.dir, env: p.env });
    expect(run.code).toBe(66);
    expect(run.stdout + run.stderr).toMatch(/No backups of other\.db/);
    expect(run.stdout + run.stderr).toMatch(/there are backups of app/);
    expect(fs.existsSync(path.join(p.dir, 'other.db'))).toBe(false);
  });
});

describe('verify on any database', () => {
  it('a non-HealthSum database: integrity, foreign keys, schema_migrations and (with --dir) checksums; 0 or 65, never 1', () => {
    const p = project(THREE);
    expect(p.run('up', '--create', '--no-backup').code).toBe(0);
    const ok = p.run('verify', '--dir', 'migrations', '--json');
    expect(ok.code, ok.stdout).toBe(0);
    expect(json<RunJson>(ok).checks.map((c) => [c.name, c.ok])).toEqual([
      ['integrity_check', true],
      ['foreign_key_check', true],
      ['schema_migrations', true],
      ['applied migrations unchanged', true],
    ]);
    expect(json<RunJson>(ok).source).toBe(p.db);
    expect(ok.stdout).not.toMatch(/health_records/);

    fs.appendFileSync(path.join(p.migrations, '000002_add_tasks.up.sql'), '\n-- edited');
    const changed = p.run('verify', 'app.db', '--dir', 'migrations', '--json');
    expect(changed.code).toBe(65);
    expect(json<RunJson>(changed).error?.message).toMatch(/000002_add_tasks was changed after it was applied/);

    const db = new Database(p.db);
    db.pragma('foreign_keys = OFF');
    db.exec('CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id)); INSERT INTO child VALUES (1, 42);');
    db.close();
    const orphans = p.run('verify', '--json');
    expect(orphans.code).toBe(65);
    expect(json<RunJson>(orphans).checks.find((c) => c.name === 'foreign_key_check')).toMatchObject({ ok: false, detail: '1 foreign-key violations' });
  });

  it('a pre-v5 HealthSum database: 65 and the advice to migrate, not to report the checks', () => {
    const ws = workspace({ reports: 20 });
    const run = dbshift(['verify', ws.old, '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code).toBe(65);
    const error = json<RunJson>(run).error!;
    expect(error.code).toBe('not-migrated');
    expect(error.hint).toMatch(/dbshift migrate/);
    expect(error.hint).not.toMatch(/report/i);
  });
});
