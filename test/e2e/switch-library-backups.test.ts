import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { freshDatabase, query } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';

// Issue 20.5: backups that fit where they run. A library call made by an app (its working
// directory anywhere) backs a SQLite database up beside it; its errors name library options;
// HealthSum's defaults never reach the generic commands.

interface Called {
  result: { ok: boolean; backup?: { path: string } | null; error?: { code: string; message: string; hint?: string; exitCode: number } };
}

function call(fn: string, options: Record<string, unknown>, PATH = process.env.PATH ?? ''): Called {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'test/support/library.mjs'), fn, JSON.stringify(options)], { encoding: 'utf8', env: { PATH, HOME: process.env.HOME ?? '/tmp' } });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Called;
}

describe('library backups and defaults', () => {
  it('a SQLite backup from migrateToLatest goes beside the database, not into the working directory', () => {
    const app = tempDir();
    const elsewhere = tempDir();
    fs.mkdirSync(path.join(app, 'migrations'));
    fs.writeFileSync(path.join(app, 'migrations', '000001_a.up.sql'), 'CREATE TABLE a (id INTEGER);');
    const options = { cwd: elsewhere, database: path.join(app, 'data', 'app.db'), dir: path.join(app, 'migrations') };
    expect(call('migrateToLatest', options).result.ok).toBe(true);
    fs.writeFileSync(path.join(app, 'migrations', '000002_b.up.sql'), 'CREATE TABLE b (id INTEGER);');
    const second = call('migrateToLatest', options).result;
    expect(second.ok).toBe(true);
    expect(path.dirname(second.backup!.path)).toBe(path.join(app, 'data', 'backups'));
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  });

  it('a versioned call without a database is refused (64) without naming HealthSum\'s instance/health_records.db', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'migrations'));
    const result = call('up', { cwd: dir, dir: 'migrations' }).result;
    expect(result.error).toMatchObject({ code: 'no-database', exitCode: 64 });
    expect(JSON.stringify(result)).not.toMatch(/health_records|SOURCE_DB/);
    expect(fs.readdirSync(dir)).toEqual(['migrations']);
  });

  it('on PostgreSQL without pg_dump, the error names the library option backup: false; with it the migrations run', async () => {
    const db = await freshDatabase();
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'migrations'));
    fs.writeFileSync(path.join(dir, 'migrations', '000001_a.up.sql'), 'CREATE TABLE a (id int);');
    await query(db.url, 'CREATE TABLE kept (id int)');
    const noPgDump = tempDir();
    const refused = call('migrateToLatest', { cwd: dir, database: db.url, dir: 'migrations' }, noPgDump).result;
    expect(refused.error?.exitCode).toBe(78);
    expect(refused.error?.hint).toMatch(/backup: false/);
    expect(call('migrateToLatest', { cwd: dir, database: db.url, dir: 'migrations', backup: false }, noPgDump).result.ok).toBe(true);
  });
});
