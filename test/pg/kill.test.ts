import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../support/cli.js';
import { forceVersion } from '../../src/engine/force.js';
import { freshDatabase, migrationsFor, openDriver, query, urlFor, writeMigrations } from '../support/pg.js';
import { collect } from '../support/process.js';
import { tempDir } from '../support/tmp.js';

// SIGKILL in the middle of a migration: the version tells the truth, and the rerun finishes.
// The runner is a separate process on the built driver; it is killed while the server runs
// its pg_sleep, so the kill lands mid-statement.

const RUNNER = path.join(ROOT, 'test/support/pg-runner.mjs');

function start(url: string, dir: string) {
  return spawn(process.execPath, [RUNNER, url, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function waitForSleep(url: string, app: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const rows = await query(url, `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep%' AND state = 'active'`, [app]);
    if (rows.length > 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the migration never started');
}

/** Sleeps only for the first runner (application_name=slow), so the rerun passes quickly. */
const SLEEP = `SELECT pg_sleep(CASE WHEN current_setting('application_name') = 'slow' THEN 2 ELSE 0 END);`;

describe('SIGKILL mid-migration', () => {
  it('inside a transaction: the version stays at the last committed migration, clean; the rerun applies the rest', async () => {
    const db = await freshDatabase();
    const dir = writeMigrations(tempDir(), {
      '000001_a.up.sql': 'CREATE TABLE a (id int);',
      '000002_b.up.sql': `CREATE TABLE b (id int);\n${SLEEP}\n`,
    });
    const child = start(urlFor(db.name, 'application_name=slow'), dir);
    const finished = collect(child);
    await waitForSleep(db.url, 'slow');
    child.kill('SIGKILL');
    expect((await finished).signal).toBe('SIGKILL');
    expect(await query(db.url, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: '1', dirty: false }]);

    const rerun = await collect(start(db.url, dir));
    expect(rerun.code).toBe(0);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ ok: true, before: { version: 1, dirty: false }, after: { version: 2, dirty: false } });
    expect(await query(db.url, `SELECT to_regclass('b') IS NOT NULL AS ok`)).toEqual([{ ok: true }]);
  });

  it('outside a transaction: the database says dirty at that version; after force the rerun finishes', async () => {
    const db = await freshDatabase();
    const dir = writeMigrations(tempDir(), {
      '000001_a.up.sql': 'CREATE TABLE a (id int);',
      '000002_b.up.sql': `-- dbshift:no-transaction\nCREATE TABLE IF NOT EXISTS b (id int);\n${SLEEP}\n`,
    });
    const child = start(urlFor(db.name, 'application_name=slow'), dir);
    const finished = collect(child);
    await waitForSleep(db.url, 'slow');
    child.kill('SIGKILL');
    await finished;
    expect(await query(db.url, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: '2', dirty: true }]);
    const refused = await collect(start(db.url, dir));
    expect(refused.code).toBe(65);
    expect(JSON.parse(refused.stdout).error.code).toBe('database-dirty');

    // The operator sees table b is there but the migration did not finish: force the version below, rerun.
    const driver = await openDriver(db.url);
    expect((await forceVersion(driver, await migrationsFor(driver, dir), 1)).after).toEqual({ version: 1, dirty: false });
    const rerun = await collect(start(db.url, dir));
    expect(rerun.code).toBe(0);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ ok: true, after: { version: 2, dirty: false } });
  });

  it('Ctrl-C during a long statement: cancelled on the server, exit 130, rolled back, not dirty', async () => {
    const db = await freshDatabase();
    const dir = writeMigrations(tempDir(), {
      '000001_a.up.sql': 'CREATE TABLE a (id int);',
      '000002_long.up.sql': 'CREATE TABLE b (id int);\nSELECT pg_sleep(60);\n',
    });
    const child = spawn(process.execPath, [CLI, 'up', '--database', db.url, '--dir', dir, '--no-backup'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const finished = collect(child);
    await waitForSleep(db.url, 'dbshift');
    const started = Date.now();
    child.kill('SIGINT');
    const done = await finished;
    expect(done.code).toBe(130);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(done.stderr).toMatch(/Interrupted: the running statement was cancelled on the server/);
    expect(done.stderr).toMatch(/rolled back: no changes were applied, the version stays 1/);
    expect(await query(db.url, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: '1', dirty: false }]);
    expect(await query(db.url, `SELECT to_regclass('b') IS NULL AS gone`)).toEqual([{ gone: true }]);
  });
});
