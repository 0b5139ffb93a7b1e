import { describe, expect, it } from 'vitest';
import { runVersions } from '../../src/engine/versions.js';
import { PgRowWatch, RecountNeeded } from '../../src/engine/drivers/postgres/row-changes.js';
import { freshDatabase, migrationsFor, openDriver, query, urlFor, withClient, writeMigrations } from '../support/pg.js';
import { dbshift, json } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

// The row-loss backstop on PostgreSQL (docs/safety.md): tables told apart by oid, every way a
// row can leave a table caught, and a table the migration never touched never read.

const BASE = {
  '000001_shop.up.sql': `CREATE TABLE "Orders" (id int PRIMARY KEY);
CREATE TABLE orders (id int PRIMARY KEY);
INSERT INTO "Orders" SELECT generate_series(1, 10);
INSERT INTO orders SELECT generate_series(1, 10);
CREATE TABLE parents (id int PRIMARY KEY);
CREATE TABLE children (id int PRIMARY KEY, parent_id int REFERENCES parents ON DELETE CASCADE);
INSERT INTO parents VALUES (1), (2);
INSERT INTO children VALUES (1, 1), (2, 1), (3, 2);
CREATE TABLE audit (id int);
INSERT INTO audit VALUES (1), (2);
`,
};

async function up(url: string, files: Record<string, string>) {
  const driver = await openDriver(url);
  const dir = writeMigrations(tempDir(), { ...BASE, ...files });
  return runVersions(driver, await migrationsFor(driver, dir), { kind: 'up' }, 'up', { backupDir: tempDir(), backup: false });
}

/** Migration 2 on a database at 1: its result, and the version after. */
async function second(sql: string) {
  const db = await freshDatabase();
  expect((await up(db.url, {})).error).toBeUndefined();
  const result = await up(db.url, { '000002_change.up.sql': sql });
  return { db, result };
}

/** A login role that may migrate `audit` but may not read the table `secrets` (created here with a row); its URL. */
async function roleWithoutSecrets(database: string, extra: string): Promise<URL> {
  const role = `mig_${database}`;
  await query(urlFor(database), `CREATE ROLE ${role} LOGIN PASSWORD 'pw'; GRANT ALL ON SCHEMA public TO ${role}; GRANT ALL ON schema_migrations, dbshift_history, audit TO ${role};
    ${extra.replaceAll('{role}', role)}
    CREATE TABLE secrets (id int); INSERT INTO secrets VALUES (1); REVOKE ALL ON secrets FROM ${role};`);
  const url = new URL(urlFor(database));
  url.username = role;
  url.password = 'pw';
  return url;
}

describe('row-loss backstop on PostgreSQL', () => {
  it('"Orders" and orders are two tables: a loss in one is not hidden by the other, and a declaration names the one it means', async () => {
    const undeclared = await second('DELETE FROM "Orders" WHERE id > 5;');
    expect(undeclared.result.error?.code).toBe('rows-lost');
    expect(undeclared.result.error?.message).toContain('"Orders" (10 -> 5)');
    expect(undeclared.result.error?.hint).toContain('-- dbshift:deletes-rows "Orders"');
    expect(undeclared.result.after).toEqual({ version: 1, dirty: false });

    // `orders` unquoted is the other table, as in SQL.
    const wrongTwin = await second('-- dbshift:deletes-rows orders\nDELETE FROM "Orders" WHERE id > 5;');
    expect(wrongTwin.result.error?.code).toBe('rows-lost');

    const declared = await second('-- dbshift:deletes-rows "Orders"\nDELETE FROM "Orders" WHERE id > 5;');
    expect(declared.result.error).toBeUndefined();
    expect(declared.result.counts).toEqual({ '"Orders"': { before: 10, after: 5 } });
  });

  it('a cascade, a trigger, TRUNCATE … CASCADE and a drop + create under the same name are each caught', async () => {
    const cascade = await second('-- dbshift:deletes-rows parents\nDELETE FROM parents WHERE id = 1;');
    expect(cascade.result.error?.message).toContain('children (3 -> 1)');

    const trigger = await second(`CREATE FUNCTION forget() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM audit; RETURN NEW; END $$;
CREATE TRIGGER forget AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION forget();
INSERT INTO orders VALUES (11);`);
    expect(trigger.result.error?.message).toContain('audit (2 -> 0)');

    const truncate = await second('-- dbshift:deletes-rows parents\nTRUNCATE parents CASCADE;');
    expect(truncate.result.error?.message).toContain('children (3 -> 0)');

    const hidden = await second(`DO $$ BEGIN EXECUTE 'TRUNCATE audit'; END $$;\nINSERT INTO audit VALUES (9);`);
    expect(hidden.result.error?.message).toContain('audit (2 -> 1)');

    const recreated = await second('DROP TABLE audit;\nCREATE TABLE audit (id int);');
    expect(recreated.result.error?.message).toContain('audit (2 -> 0)');

    // A rolled-back savepoint's inserts stay in PostgreSQL's counters: they must not hide a real deletion.
    const masked = await second(`SAVEPOINT s;\nINSERT INTO audit SELECT generate_series(10, 20);\nROLLBACK TO SAVEPOINT s;\nDELETE FROM audit WHERE id = 1;`);
    expect(masked.result.error?.code).toBe('rows-lost');
    expect(masked.result.error?.message).toContain('audit (2 -> 1)');
  });

  it('what loses no rows passes: a rewrite, a rename, an insert, a table dropped outright, a declared TRUNCATE', async () => {
    const { result } = await second(`ALTER TABLE orders ALTER COLUMN id TYPE bigint;
ALTER TABLE "Orders" RENAME TO orders_archive;
INSERT INTO audit VALUES (3);
DROP TABLE children;
-- dbshift:deletes-rows parents
TRUNCATE parents;`);
    expect(result.error).toBeUndefined();
    expect(result.counts).toEqual({ audit: { before: 2, after: 3 }, children: { before: 3, after: null }, parents: { before: 2, after: 0 } });
  });

  it('counts are per migration: one run of several migrations on one session does not carry a deletion or an insert into the next', async () => {
    const db = await freshDatabase();
    const result = await up(db.url, {
      '000002_purge.up.sql': '-- dbshift:deletes-rows audit\nDELETE FROM audit WHERE id = 1;\nINSERT INTO orders VALUES (11), (12);',
      '000003_more.up.sql': "INSERT INTO audit VALUES (7);\nINSERT INTO orders VALUES (13);\nCREATE SEQUENCE attempts;\nCREATE TABLE runs AS SELECT nextval('attempts') AS n;",
    });
    expect(result.error).toBeUndefined();
    expect(result.steps.map((s) => s.rowCounts)).toEqual([expect.anything(), { audit: { before: 2, after: 1 }, orders: { before: 10, after: 12 } }, { audit: { before: 1, after: 2 }, orders: { before: 12, after: 13 }, runs: { before: null, after: 1 } }]);
    // Proven from the counters, once: had migration 2's deletion still shown in the counters,
    // migration 3 would have been run twice (the second time with counts), and a sequence is not
    // rolled back (row-changes.ts: the counters are reported at each migration's end).
    expect(await query(db.url, 'SELECT n::int FROM runs')).toEqual([{ n: 1 }]);
  });

  it('a partitioned table: a deletion through the parent is judged on each partition, and declaring the parent declares them', async () => {
    const db = await freshDatabase();
    const events = { '000002_events.up.sql': `CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO events VALUES (1, '2025-05-01'), (2, '2026-05-01'), (3, '2026-06-01');` };
    expect((await up(db.url, events)).error).toBeUndefined();
    const undeclared = await up(db.url, { ...events, '000003_purge.up.sql': "DELETE FROM events WHERE at >= '2026-06-01';" });
    expect(undeclared.error?.code).toBe('rows-lost');
    expect(undeclared.error?.message).toContain('events_2026 (2 -> 1)');
    const declared = await up(db.url, { ...events, '000003_purge.up.sql': "-- dbshift:deletes-rows events\nDELETE FROM events WHERE at >= '2026-06-01';" });
    expect(declared.error).toBeUndefined();
    expect(declared.counts).toEqual({ events_2026: { before: 2, after: 1 } });
  });

  it('never reads a table the migration does not touch: a table the migration role may not SELECT does not stop it', async () => {
    const db = await freshDatabase();
    await up(db.url, {});
    const url = await roleWithoutSecrets(db.name, '');
    const result = await up(url.toString(), { '000002_more.up.sql': 'INSERT INTO audit VALUES (3);\nCREATE TABLE extra (id int);' });
    expect(result.error).toBeUndefined();
    expect(result.counts).toEqual({ audit: { before: 2, after: 3 }, extra: { before: null, after: 0 } });
    // Reading it would have failed: the role really may not.
    await expect(query(url.toString(), 'SELECT count(*) FROM secrets')).rejects.toThrow(/permission denied/);
  });

  it('does not count a large table that only gained rows: an INSERT of one row into it costs one row, not a scan (its rows added are reported)', async () => {
    const db = await freshDatabase();
    await up(db.url, {});
    // Over 16 MiB: 100,000 rows of 200 bytes.
    await query(db.url, "CREATE TABLE big (id int, pad text); INSERT INTO big SELECT g, repeat('x', 200) FROM generate_series(1, 100000) g;");
    // The migration's role may add rows to `big` but not read it: a count(*) of it would fail the migration.
    const url = await roleWithoutSecrets(db.name, 'GRANT INSERT ON big TO {role}; REVOKE SELECT ON big FROM {role};');
    const second = "INSERT INTO big VALUES (0, 'new'), (-1, 'new');\nINSERT INTO audit VALUES (3);";
    const result = await up(url.toString(), { '000002_more.up.sql': second });
    expect(result.error).toBeUndefined();
    expect(result.counts).toEqual({ audit: { before: 2, after: 3 }, big: { before: null, after: null, added: 2 } });
    await expect(query(url.toString(), 'SELECT count(*) FROM big')).rejects.toThrow(/permission denied/);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM big')).toEqual([{ n: 100_002 }]);

    // A deletion from it is still caught: the counters saw it, and then it is counted.
    const lossy = await up(db.url, { '000002_more.up.sql': second, '000003_less.up.sql': 'DELETE FROM big WHERE id < 10;' });
    expect(lossy.error?.code).toBe('rows-lost');
    expect(lossy.error?.message).toContain('big (100002 -> 99991)');

    // Through the CLI: the text says what was not counted, the JSON has the rows added.
    const dir = writeMigrations(tempDir(), { ...BASE, '000002_more.up.sql': second, '000003_again.up.sql': "INSERT INTO big VALUES (7, 'cli');" });
    const text = dbshift(['up', '--database', url.toString(), '--dir', dir, '--no-backup'], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/big +\+1 \(a large table that only gained rows: not counted\)/);
    const again = writeMigrations(tempDir(), { ...BASE, '000002_more.up.sql': second, '000003_again.up.sql': "INSERT INTO big VALUES (7, 'cli');", '000004_more.up.sql': "INSERT INTO big VALUES (8, 'cli');" });
    expect(json<{ counts: unknown }>(dbshift(['up', '--database', url.toString(), '--dir', again, '--no-backup', '--json'], { cwd: again })).counts).toEqual({ big: { before: null, after: null, added: 1 } });
  });

  describe('outside a transaction (-- dbshift:no-transaction): each statement its own transaction, proven as a transactional migration is', () => {
    it('never reads a table the migration does not touch: a table the migration role may not SELECT does not stop it', async () => {
      const db = await freshDatabase();
      await up(db.url, {});
      // CREATE INDEX CONCURRENTLY needs the table's owner.
      const url = await roleWithoutSecrets(db.name, 'ALTER TABLE audit OWNER TO {role};');
      const result = await up(url.toString(), { '000002_more.up.sql': 'CREATE INDEX CONCURRENTLY audit_id ON audit (id);\nINSERT INTO audit VALUES (3);\nINSERT INTO audit VALUES (4);\nCREATE TABLE extra (id int);' });
      expect(result.error).toBeUndefined();
      expect(result.counts).toEqual({ audit: { before: 2, after: 4 }, extra: { before: null, after: 0 } });
      expect(result.after).toEqual({ version: 2, dirty: false });
      await expect(query(url.toString(), 'SELECT count(*) FROM secrets')).rejects.toThrow(/permission denied/);
    });

    it('an undeclared loss by cascade is refused before its statement commits: that statement is rolled back, the earlier ones stay, dirty', async () => {
      const { db, result } = await second('-- dbshift:no-transaction\n-- dbshift:deletes-rows parents\nINSERT INTO audit VALUES (3);\nDELETE FROM parents WHERE id = 1;');
      expect(result.error?.code).toBe('rows-lost');
      expect(result.error?.message).toContain('children (3 -> 1)');
      expect(result.after).toEqual({ version: 2, dirty: true });
      expect(await query(db.url, 'SELECT (SELECT count(*) FROM children)::int AS children, (SELECT count(*) FROM parents)::int AS parents, (SELECT count(*) FROM audit)::int AS audit')).toEqual([{ children: 3, parents: 2, audit: 3 }]);
    });

    it('a declared deletion, the file\'s own BEGIN … COMMIT, and a TRUNCATE hidden in a DO block are each judged', async () => {
      const declared = await second('-- dbshift:no-transaction\n-- dbshift:deletes-rows parents, children\nDELETE FROM parents WHERE id = 1;\nINSERT INTO audit VALUES (3);');
      expect(declared.result.error).toBeUndefined();
      expect(declared.result.counts).toEqual({ parents: { before: 2, after: 1 }, children: { before: 3, after: 1 }, audit: { before: 2, after: 3 } });

      const ownBlock = await second('-- dbshift:no-transaction\nBEGIN;\nDELETE FROM audit WHERE id = 1;\nCOMMIT;');
      expect(ownBlock.result.error?.code).toBe('rows-lost');
      expect(ownBlock.result.error?.message).toContain('audit (2 -> 1)');

      const hidden = await second(`-- dbshift:no-transaction\nDO $$ BEGIN EXECUTE 'TRUNCATE audit'; END $$;`);
      expect(hidden.result.error?.code).toBe('rows-lost');
      expect(hidden.result.error?.message).toContain('audit (2 -> 0)');
    });
  });
});

describe('the backstop before PostgreSQL 15 (no pg_stat_force_next_flush): a baseline of the session\'s counters', () => {
  // Only PostgreSQL 15 is installed here; the watch is driven directly with the counters not
  // reset between transactions, as on 13 and 14: the session's earlier transactions stay in
  // pg_stat_xact_user_tables until the session reports them (at most once a second).
  it('a deletion in the transaction before is not taken for this one\'s, and this one\'s own is still caught', async () => {
    const db = await freshDatabase();
    await query(db.url, 'CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 10);');
    await withClient(db.url, async (client) => {
      const watch = () => new PgRowWatch({ client, schema: 'public', bookkeeping: [], countFirst: new Set(), lastRun: false, exhaustive: false, deletesRows: [], countersAtZero: false });
      await client.query('BEGIN');
      const first = watch();
      await first.begin();
      await client.query('DELETE FROM t WHERE id <= 2');
      expect(await first.changes(['t'])).toEqual({ changed: [{ name: 't', before: 10, after: 8 }], lost: [] });
      await client.query('COMMIT');

      // Right after: the 2 deletions are still in this session's counters.
      await client.query('BEGIN');
      const second = watch();
      await second.begin();
      await client.query('INSERT INTO t VALUES (11)');
      expect(await second.changes([])).toEqual({ changed: [{ name: 't', before: 8, after: 9 }], lost: [] });
      await client.query('ROLLBACK');

      await client.query('BEGIN');
      const third = watch();
      await third.begin();
      await client.query('DELETE FROM t WHERE id = 3');
      // Its own deletion, not declared: not proven from the counters, so a second run with t counted first is asked for.
      await expect(third.changes([])).rejects.toBeInstanceOf(RecountNeeded);
      await client.query('ROLLBACK');
    });
  });
});
