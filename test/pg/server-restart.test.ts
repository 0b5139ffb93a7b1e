import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbshift, dbshiftAsync } from '../support/cli.js';
import { startCluster, type Cluster } from '../support/pg-cluster.js';
import { freshDatabase, query, writeMigrations } from '../support/pg.js';
import { until, within } from '../support/waiting.js';
import { tempDir } from '../support/tmp.js';

// What the infrastructure does to a run, for real: the server restarted under a running
// migration (`pg_ctl restart -m fast`, as a failover or an operator would), and Ctrl-C while
// pg_dump is still writing the backup. The restart needs a server of its own, so it does not end
// the sessions of the other test files.

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster();
}, 120_000);
afterAll(() => cluster?.stop());

async function ownQuery<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function ownDatabase(): Promise<string> {
  const name = `restart_${crypto.randomBytes(4).toString('hex')}`;
  await ownQuery(cluster.url, `CREATE DATABASE ${name}`);
  const url = new URL(cluster.url);
  url.pathname = `/${name}`;
  return url.toString();
}

const withApp = (url: string, app: string) => `${url}${url.includes('?') ? '&' : '?'}application_name=${app}`;

async function sleeping(url: string, app: string): Promise<boolean> {
  const rows = await ownQuery(url, `SELECT 1 FROM pg_stat_activity WHERE application_name = '${app}' AND query LIKE '%pg_sleep(600)%' AND state = 'active'`);
  return rows.length > 0;
}

/** An app's transaction holding `lock` (a LOCK TABLE …) while `work` runs; rolled back after. */
async function whileAppHolds(url: string, lock: string, work: (app: pg.Client) => Promise<void>): Promise<void> {
  const app = new pg.Client({ connectionString: url });
  await app.connect();
  try {
    await app.query(`BEGIN; ${lock}`);
    await work(app);
  } finally {
    await app.query('ROLLBACK').catch(() => undefined);
    await app.end();
  }
}

/** Migration 2 left nothing: the version is 1, clean, and its table b does not exist. */
async function expectStillAtOne(url: string): Promise<void> {
  expect(await query(url, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: '1', dirty: false }]);
  expect(await query(url, `SELECT to_regclass('b') IS NULL AS gone`)).toEqual([{ gone: true }]);
}

/** `up` on a database of the private cluster, restarted while migration 2 sleeps in pg_sleep(600). */
async function restartedUnder(second: string, app: string) {
  const url = await ownDatabase();
  const dir = writeMigrations(tempDir(), { '000001_a.up.sql': 'CREATE TABLE a (id int);', '000002_b.up.sql': `${second}\nCREATE TABLE b (id int);\nSELECT pg_sleep(600);\n` });
  const child = dbshiftAsync(['up', '--database', withApp(url, app), '--dir', dir, '--no-backup'], { cwd: tempDir() });
  const done = within(child, 180_000);
  await until('the migration sleeps', () => sleeping(url, app));
  cluster.restart();
  const finished = await done;
  expect(finished.code, finished.stderr).toBe(74);
  expect(finished.stderr).toMatch(/connection to PostgreSQL was lost/);
  expect(finished.stderr).not.toMatch(/bug|\n\s+at /);
  return { url, dir, finished };
}

describe('the server restarts under a running up', () => {
  it('inside a transaction: 74, the server rolled it back, the version stays at the last committed migration; the rerun finishes', async () => {
    const { url, dir } = await restartedUnder('', 'restarted');
    expect(await ownQuery(url, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: '1', dirty: false }]);
    expect(await ownQuery(url, `SELECT to_regclass('b') IS NULL AS gone`)).toEqual([{ gone: true }]);
    const status = dbshift(['version', '--database', url, '--dir', dir], { cwd: tempDir() });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/\b1\b/);

    fs.writeFileSync(path.join(dir, '000002_b.up.sql'), 'CREATE TABLE b (id int);\n');
    const rerun = dbshift(['up', '--database', url, '--dir', dir, '--no-backup'], { cwd: tempDir() });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await ownQuery(url, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: '2', dirty: false }]);
  }, 300_000);

  it('outside a transaction: 74, the database says dirty at that version and the hint names force', async () => {
    const { url, finished } = await restartedUnder('-- dbshift:no-transaction', 'restarted_nt');
    expect(finished.stderr).toMatch(/dirty/);
    expect(finished.stderr).toMatch(/dbshift force/);
    // The dirty flag was written before the statements ran, so the restart cannot lose it.
    expect(await ownQuery(url, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: '2', dirty: true }]);
  }, 300_000);
});

describe('Ctrl-C while pg_dump writes the backup', () => {
  it('130 at once: pg_dump stopped, no backup file left behind, no migration applied', async () => {
    const db = await freshDatabase();
    const dir = writeMigrations(tempDir(), {
      '000001_a.up.sql': 'CREATE TABLE a (id int);',
      '000002_b.up.sql': 'CREATE TABLE b (id int);',
    });
    expect(dbshift(['up', '1', '--database', db.url, '--dir', dir, '--no-backup'], { cwd: tempDir() }).code).toBe(0);

    // pg_dump waits for ACCESS SHARE on every table it dumps; an app's ACCESS EXCLUSIVE on `a`
    // keeps it waiting, so the signal lands while the dump is running.
    await whileAppHolds(db.url, 'LOCK TABLE a IN ACCESS EXCLUSIVE MODE', async () => {
      const backups = path.join(tempDir(), 'backups');
      const child = dbshiftAsync(['up', '--database', db.url, '--dir', dir], { cwd: tempDir(), env: { BACKUP_DIR: backups } });
      const done = within(child, 120_000);
      await until('pg_dump waits for the lock', async () => (await query(db.url, `SELECT 1 FROM pg_stat_activity WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'`)).length > 0);
      child.kill('SIGINT');
      const finished = await done;
      expect(finished.code, finished.stderr).toBe(130);
      expect(finished.stderr).not.toMatch(/bug|\n\s+at /);
      await until('pg_dump has left the server', async () => (await query(db.url, `SELECT 1 FROM pg_stat_activity WHERE application_name = 'pg_dump'`)).length === 0);
      const left = fs.existsSync(backups) ? fs.readdirSync(backups) : [];
      expect(left).toEqual([]);
    });
    await expectStillAtOne(db.url);
  }, 180_000);
});

describe('the server ends the session that holds the migration lock', () => {
  it('the migration in flight is rolled back (75 lock-lost), never committed unguarded', async () => {
    const db = await freshDatabase();
    await query(db.url, 'CREATE TABLE gate (id int)');
    const dir = writeMigrations(tempDir(), {
      '000001_a.up.sql': 'CREATE TABLE a (id int);',
      '000002_b.up.sql': 'CREATE TABLE b (id int);\nLOCK TABLE gate IN ACCESS EXCLUSIVE MODE;\nINSERT INTO b VALUES (1);\n',
    });
    // The test holds the gate, so migration 2 waits inside its transaction while the lock's
    // session is ended; then the gate opens and the migration reaches its commit.
    await whileAppHolds(db.url, 'LOCK TABLE gate IN ACCESS EXCLUSIVE MODE', async (app) => {
      const child = dbshiftAsync(['up', '--database', db.url, '--dir', dir, '--no-backup', '--pg-lock-timeout', '0'], { cwd: tempDir() });
      const done = within(child, 120_000);
      await until('migration 2 waits at the gate', async () => (await query(db.url, `SELECT 1 FROM pg_stat_activity WHERE query LIKE 'LOCK TABLE gate%' AND wait_event_type = 'Lock'`)).length > 0);
      const [holder] = await query<{ pid: number }>(db.url, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
      expect(holder).toBeDefined();
      await query(db.url, 'SELECT pg_terminate_backend($1)', [holder!.pid]);
      await until('the lock session has left', async () => (await query(db.url, 'SELECT 1 FROM pg_stat_activity WHERE pid = $1', [holder!.pid])).length === 0);
      await app.query('ROLLBACK');
      const finished = await done;
      expect(finished.code, finished.stderr).toBe(75);
      expect(finished.stderr).toMatch(/the session holding the migration lock was ended by the server/);
      expect(finished.stderr).not.toMatch(/bug|\n\s+at /);
    });
    await expectStillAtOne(db.url);
  }, 180_000);
});

describe("Ctrl-C while one of dbshift's own queries waits", () => {
  it('a version read held up by an app: 130 "interrupted", never exit 1', async () => {
    const db = await freshDatabase();
    const dir = writeMigrations(tempDir(), { '000001_a.up.sql': 'CREATE TABLE a (id int);', '000002_b.up.sql': 'CREATE TABLE b (id int);' });
    expect(dbshift(['up', '1', '--database', db.url, '--dir', dir, '--no-backup'], { cwd: tempDir() }).code).toBe(0);
    await whileAppHolds(db.url, 'LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE', async () => {
      const child = dbshiftAsync(['up', '--database', `${db.url}?application_name=held`, '--dir', dir, '--no-backup', '--pg-lock-timeout', '0'], { cwd: tempDir() });
      const done = within(child, 120_000);
      await until('dbshift waits for the version table', async () => (await query(db.url, `SELECT 1 FROM pg_stat_activity WHERE application_name = 'held' AND wait_event_type = 'Lock'`)).length > 0);
      child.kill('SIGTERM');
      const finished = await done;
      expect(finished.code, finished.stderr).toBe(130);
      expect(finished.stderr).toMatch(/Interrupted/);
      expect(finished.stderr).not.toMatch(/bug|Unexpected error/);
    });
    await expectStillAtOne(db.url);
  }, 180_000);
});
