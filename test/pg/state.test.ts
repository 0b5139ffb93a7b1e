import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { runVersions } from '../../src/engine/versions.js';
import { advisoryLockId } from '../../src/engine/drivers/postgres/driver.js';
import { freshDatabase, migrationsFor, openDriver, query, urlFor, withClient, writeMigrations } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';

// golang-migrate compatibility: its version table continued unchanged, its advisory lock id
// (so the two tools exclude each other), its x-migrations-table; and two dbshift runners.

const THREE = {
  '000001_authors.up.sql': 'CREATE TABLE authors (id bigint PRIMARY KEY, name text NOT NULL);',
  '000001_authors.down.sql': 'DROP TABLE authors;',
  '000002_books.up.sql': 'CREATE TABLE books (id bigint PRIMARY KEY, author_id bigint NOT NULL REFERENCES authors (id) ON DELETE CASCADE);\nCREATE INDEX ix_books_author_id ON books (author_id);',
  '000002_books.down.sql': 'DROP TABLE books;',
  '000003_slow.up.sql': 'SELECT pg_sleep(1.5);\nALTER TABLE authors ADD COLUMN bio text;',
  '000003_slow.down.sql': 'ALTER TABLE authors DROP COLUMN bio;',
};

/** The table's definition as the catalogs describe it: columns, constraints, indexes. */
async function definition(url: string, table: string): Promise<unknown> {
  const columns = await query(url, `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [table]);
  const constraints = await query(url, `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass ORDER BY 1`, [table]);
  const indexes = await query(url, `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY 1`, [table]);
  return { columns, constraints, indexes };
}

describe('golang-migrate compatibility', () => {
  it('derives the advisory lock id exactly as golang-migrate (CRC-32 of schema, table, database, times its salt)', () => {
    // Reference values computed independently (Python's zlib.crc32 × 1486364155 mod 2^32).
    expect(advisoryLockId('t_x', 'public', 'schema_migrations')).toBe('23115748');
    expect(advisoryLockId('codeactions', 'public', 'schema_migrations')).toBe('277612980');
  });

  it('continues a schema_migrations that golang-migrate created and filled, leaving its definition unchanged', async () => {
    const db = await freshDatabase();
    const dir = writeMigrations(tempDir(), THREE);
    await withClient(db.url, async (c) => {
      // What golang-migrate's postgres driver runs (ensureVersionTable, SetVersion) after applying 1 and 2.
      await c.query('CREATE TABLE IF NOT EXISTS "public"."schema_migrations" (version bigint not null primary key, dirty boolean not null)');
      await c.query(THREE['000001_authors.up.sql']);
      await c.query(THREE['000002_books.up.sql']);
      await c.query('BEGIN; TRUNCATE "public"."schema_migrations"; INSERT INTO "public"."schema_migrations" (version, dirty) VALUES (2, false); COMMIT;');
    });
    const before = await definition(db.url, 'schema_migrations');
    const driver = await openDriver(db.url);
    expect(await driver.readVersion()).toEqual({ version: 2, dirty: false });
    const result = await runVersions(driver, await migrationsFor(driver, dir), { kind: 'up' }, 'up', { backupDir: tempDir(), backup: false });
    expect(result.error).toBeUndefined();
    expect(result.steps.map((s) => s.version)).toEqual([3]);
    expect(await definition(db.url, 'schema_migrations')).toEqual(before);
    // One row, as golang-migrate reads it (SELECT version, dirty … LIMIT 1).
    expect(await query(db.url, 'SELECT version, dirty FROM "public"."schema_migrations"')).toEqual([{ version: '3', dirty: false }]);
  });

  it('creates schema_migrations exactly as golang-migrate does, so golang-migrate can continue it', async () => {
    const ours = await freshDatabase();
    const theirs = await freshDatabase();
    await query(theirs.url, 'CREATE TABLE IF NOT EXISTS "public"."schema_migrations" (version bigint not null primary key, dirty boolean not null)');
    const driver = await openDriver(ours.url);
    const result = await runVersions(driver, await migrationsFor(driver, writeMigrations(tempDir(), THREE)), { kind: 'up', count: 2 }, 'up', { backupDir: tempDir(), backup: false });
    expect(result.error).toBeUndefined();
    expect(await definition(ours.url, 'schema_migrations')).toEqual(await definition(theirs.url, 'schema_migrations'));
    // What golang-migrate's Version() reads: one row.
    expect(await query(ours.url, 'SELECT version, dirty FROM "public"."schema_migrations" LIMIT 1')).toEqual([{ version: '2', dirty: false }]);
    expect(await query<{ n: number }>(ours.url, 'SELECT count(*)::int AS n FROM schema_migrations')).toEqual([{ n: 1 }]);
  });

  it('holds the advisory lock golang-migrate would take, at session level', async () => {
    const db = await freshDatabase();
    const driver = await openDriver(db.url);
    await driver.lock({ wait: false, waitMs: 0 });
    const other = await withClient(db.url, async (c) => (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [advisoryLockId(db.name, 'public', 'schema_migrations')])).rows[0]!.ok);
    expect(other).toBe(false);
    // No transaction is open while the lock is held (CREATE INDEX CONCURRENTLY needs that).
    const held = await query(db.url, `SELECT state FROM pg_stat_activity WHERE pid = $1`, [driver.pid]);
    expect(held).toEqual([{ state: 'idle' }]);
    await driver.unlock();
  });

  it('uses x-migrations-table for the version table, with the history beside it', async () => {
    const db = await freshDatabase();
    await query(db.url, 'CREATE SCHEMA app');
    const dir = writeMigrations(tempDir(), { '000001_authors.up.sql': THREE['000001_authors.up.sql'] });
    const driver = await openDriver(urlFor(db.name, 'x-migrations-table=%22app%22.%22versions%22&x-migrations-table-quoted=1'));
    const result = await runVersions(driver, await migrationsFor(driver, dir), { kind: 'up' }, 'up', { backupDir: tempDir(), backup: false });
    expect(result.error).toBeUndefined();
    expect(await query(db.url, 'SELECT version, dirty FROM app.versions')).toEqual([{ version: '1', dirty: false }]);
    expect(await query(db.url, `SELECT to_regclass('app.dbshift_history') IS NOT NULL AS ok, to_regclass('public.schema_migrations') IS NULL AS none`)).toEqual([{ ok: true, none: true }]);
    expect(driver.lockId).toBe(advisoryLockId(db.name, 'app', 'versions'));
  });

  it('follows search_path given through options in the URL', async () => {
    const db = await freshDatabase();
    await query(db.url, 'CREATE SCHEMA tenant');
    const dir = writeMigrations(tempDir(), { '000001_authors.up.sql': THREE['000001_authors.up.sql'] });
    const driver = await openDriver(urlFor(db.name, 'options=-c%20search_path%3Dtenant&sslmode=disable'));
    const result = await runVersions(driver, await migrationsFor(driver, dir), { kind: 'up' }, 'up', { backupDir: tempDir(), backup: false });
    expect(result.error).toBeUndefined();
    expect(await query(db.url, `SELECT schemaname, tablename FROM pg_tables WHERE schemaname = 'tenant' ORDER BY 2`)).toEqual([
      { schemaname: 'tenant', tablename: 'authors' },
      { schemaname: 'tenant', tablename: 'dbshift_history' },
      { schemaname: 'tenant', tablename: 'schema_migrations' },
    ]);
  });
});

describe('two runners at once', () => {
  it('exactly one applies each migration; the other exits 75 naming the holder, or waits with --wait', async () => {
    const db = await freshDatabase();
    // Migration 3 waits for an advisory lock this test holds: the first run is inside it, with
    // the migration lock held, for as long as the test says, not for a sleep that a loaded
    // machine may outlast (issue 23: the second run then started after the first had ended).
    const GATE = 902_317;
    const dir = writeMigrations(tempDir(), { ...THREE, '000003_slow.up.sql': `SELECT pg_advisory_xact_lock(${GATE});\nALTER TABLE authors ADD COLUMN bio text;` });
    const gate = new pg.Client({ connectionString: db.url });
    await gate.connect();
    try {
      await gate.query('SELECT pg_advisory_lock($1)', [GATE]);
      // lock_timeout 0 on the first runner: it waits at the gate without timing out.
      const [a, b, c] = [await openDriver(db.url, { lockTimeoutMs: 0 }), await openDriver(db.url), await openDriver(db.url)];
      const options = { backupDir: tempDir(), backup: false };
      const first = runVersions(a, await migrationsFor(a, dir), { kind: 'up' }, 'up', options);
      // The first run is at the gate (migrations 1 and 2 applied, the migration lock held) once its wait shows in pg_locks.
      for (;;) {
        const waiting = await gate.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted`, [GATE]);
        if (waiting.rowCount) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const holder = a.lockPid;
      const busy = await runVersions(b, await migrationsFor(b, dir), { kind: 'up' }, 'up', options);
      const waiting = runVersions(c, await migrationsFor(c, dir), { kind: 'up' }, 'up', { ...options, wait: true, waitMs: 120_000 });
      await gate.query('SELECT pg_advisory_unlock($1)', [GATE]);
      const [done, waited] = await Promise.all([first, waiting]);
      expect(done.error).toBeUndefined();
      expect(done.steps.map((s) => s.status)).toEqual(['applied', 'applied', 'applied']);
      expect(busy.error?.exitCode).toBe(75);
      // The lock lives on a session of its own (DISCARD ALL between migrations would release it).
      expect(holder).toBeDefined();
      expect(busy.error?.message).toContain(`pid ${holder}`);
      expect(busy.error?.hint).toMatch(/--wait/);
      expect(waited.error).toBeUndefined();
      expect(waited.steps).toEqual([]);
      expect(waited.notices).toEqual(['No change: the database is at version 3.']);
      const history = await query<{ version: string; n: string }>(db.url, `SELECT version, count(*) AS n FROM dbshift_history GROUP BY 1 ORDER BY 1`);
      expect(history).toEqual([{ version: '1', n: '1' }, { version: '2', n: '1' }, { version: '3', n: '1' }]);
    } finally {
      await gate.end();
    }
  });
});

