import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runVersions } from '../../src/engine/versions.js';
import { loadParser, noTransactionReasons, splitPgStatements } from '../../src/engine/drivers/postgres/statements.js';
import { freshDatabase, migrationsFor, openDriver, query, withClient, writeMigrations } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';

// Transactions: files with their own BEGIN/COMMIT, statements that cannot run in one (found by
// PostgreSQL's parser), a failed CREATE UNIQUE INDEX CONCURRENTLY, and the lock timeout.

const BASE = {
  '000001_users.up.sql': `CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);\nINSERT INTO users (email) VALUES ('a@x'), ('b@x'), ('a@x');\n`,
  '000001_users.down.sql': 'DROP TABLE users;',
};

async function up(url: string, files: Record<string, string>, options: Parameters<typeof openDriver>[1] = {}) {
  const driver = await openDriver(url, options);
  const dir = writeMigrations(tempDir(), { ...BASE, ...files });
  return { driver, result: await runVersions(driver, await migrationsFor(driver, dir), { kind: 'up' }, 'up', { backupDir: tempDir(), backup: false }) };
}

describe('no-transaction detection with the parser', () => {
  it('names each statement that cannot run in a transaction, with its line, and ignores look-alikes', async () => {
    await loadParser();
    const sql = [
      '-- CREATE INDEX CONCURRENTLY in a comment does not count',
      "INSERT INTO notes (body) VALUES ('VACUUM; CREATE INDEX CONCURRENTLY x ON y (z)');",
      'CREATE INDEX CONCURRENTLY ix_a ON a (b);',
      'DROP INDEX CONCURRENTLY IF EXISTS ix_old;',
      'REINDEX INDEX CONCURRENTLY ix_a;',
      'VACUUM ANALYZE a;',
      'ANALYZE a;',
      "ALTER TYPE mood ADD VALUE 'meh';",
      "UPDATE people SET mood = 'meh';",
    ].join('\n');
    expect(noTransactionReasons(sql, splitPgStatements(sql), 150000)).toEqual([
      'CREATE INDEX CONCURRENTLY (line 3)',
      'DROP INDEX CONCURRENTLY (line 4)',
      'REINDEX CONCURRENTLY (line 5)',
      'VACUUM (line 6)',
      "ALTER TYPE … ADD VALUE 'meh', used later in the same migration (line 8)",
    ]);
    const plain = "ALTER TYPE mood ADD VALUE 'meh';\nCREATE INDEX ix ON a (b);\nANALYZE a;";
    expect(noTransactionReasons(plain, splitPgStatements(plain), 150000)).toEqual([]);
    expect(noTransactionReasons(plain, splitPgStatements(plain), 110000)).toEqual(['ALTER TYPE … ADD VALUE (before PostgreSQL 12) (line 1)']);
    const marked = '-- dbshift:no-transaction\nUPDATE a SET b = 1;';
    expect(noTransactionReasons(marked, splitPgStatements(marked), 150000)).toEqual(['the -- dbshift:no-transaction marker']);
  });
});

describe("a file's own BEGIN/COMMIT", () => {
  it('a BEGIN … COMMIT wrapper runs inside the migration’s one transaction, bookkeeping included', async () => {
    const db = await freshDatabase();
    const { result } = await up(db.url, {
      '000002_wrapped.up.sql': 'BEGIN;\nALTER TABLE users ADD COLUMN name text;\nUPDATE users SET name = email;\nCOMMIT;\n',
    });
    expect(result.error).toBeUndefined();
    expect(result.steps[1]).toMatchObject({ transactional: true, note: expect.stringMatching(/wraps itself in BEGIN … COMMIT/) });
    expect(result.after).toEqual({ version: 2, dirty: false });
    expect(await query(db.url, `SELECT count(*)::int AS n FROM users WHERE name = email`)).toEqual([{ n: 3 }]);
    expect(await query(db.url, `SELECT version::int, direction FROM dbshift_history ORDER BY id`)).toEqual([
      { version: 1, direction: 'up' },
      { version: 2, direction: 'up' },
    ]);
  });

  it('a file that commits half-way runs under the dirty protocol: a failure after its COMMIT says dirty, the first half stays', async () => {
    const db = await freshDatabase();
    const { result } = await up(db.url, {
      '000002_half.up.sql': 'BEGIN;\nCREATE TABLE audit (id bigint PRIMARY KEY);\nCOMMIT;\n\nINSERT INTO no_such_table VALUES (1);\n',
    });
    expect(result.steps[1]).toMatchObject({ status: 'failed', transactional: false, note: expect.stringMatching(/000002_half.up.sql:1 controls its own transaction \(BEGIN\)/) });
    expect(result.error?.exitCode).toBe(65);
    expect(result.error?.message).toMatch(/000002_half \(up\) failed: line 5: relation "no_such_table" does not exist/);
    expect(result.error?.dataState).toMatch(/dirty at version 2/);
    expect(result.error?.hint).toMatch(/dbshift force 2/);
    expect(result.after).toEqual({ version: 2, dirty: true });
    expect(await query(db.url, `SELECT to_regclass('audit') IS NOT NULL AS kept`)).toEqual([{ kept: true }]);
    expect(await query(db.url, `SELECT count(*)::int AS n FROM dbshift_history WHERE version = 2`)).toEqual([{ n: 0 }]);
  });

  it('a file with two blocks that all succeed is applied and clean', async () => {
    const db = await freshDatabase();
    const { result } = await up(db.url, { '000002_two.up.sql': 'BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\nBEGIN;\nCREATE TABLE b (id int);\nCOMMIT;\n' });
    expect(result.error).toBeUndefined();
    expect(result.after).toEqual({ version: 2, dirty: false });
  });
});

describe('code migrations', () => {
  it('may be async, with ctx.query and parameters inside the migration’s transaction', async () => {
    const db = await freshDatabase();
    const { result } = await up(db.url, {
      '000002_names.ts': `export async function up(ctx: { query(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>> }) {
  await ctx.query('ALTER TABLE users ADD COLUMN name text');
  for (const row of await ctx.query('SELECT id, email FROM users')) {
    await ctx.query('UPDATE users SET name = $1 WHERE id = $2', [String(row.email).split('@')[0], row.id]);
  }
}
export async function verify(ctx: any) {
  const [row] = await ctx.query('SELECT count(*)::int AS n FROM users WHERE name IS NULL');
  return [{ name: 'every user has a name', ok: row.n === 0, detail: row.n + ' without' }];
}
export async function down(ctx: any) { await ctx.query('ALTER TABLE users DROP COLUMN name'); }
`,
    });
    expect(result.error).toBeUndefined();
    expect(result.steps[1]?.checks).toEqual([{ name: 'every user has a name', ok: true, detail: '0 without' }]);
    expect(await query(db.url, `SELECT name FROM users ORDER BY id`)).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'a' }]);
  });

  it('is parsed, not imported, until it runs: a dry run and the status evaluate none of it', async () => {
    const db = await freshDatabase();
    const marker = path.join(tempDir(), 'imported');
    const files = { ...BASE, '000002_marker.ts': `import fs from 'node:fs';\nfs.writeFileSync(${JSON.stringify(marker)}, 'x');\nexport async function up(ctx: any) { await ctx.query('SELECT 1'); }\n` };
    const driver = await openDriver(db.url);
    const dir = writeMigrations(tempDir(), files);
    const dry = await runVersions(driver, await migrationsFor(driver, dir), { kind: 'up' }, 'up', { backupDir: tempDir(), backup: false, dryRun: true });
    expect(dry.steps.map((s) => s.status)).toEqual(['planned', 'planned']);
    expect(fs.existsSync(marker)).toBe(false);
    const real = await runVersions(driver, await migrationsFor(driver, dir), { kind: 'up' }, 'up', { backupDir: tempDir(), backup: false });
    expect(real.error).toBeUndefined();
    expect(fs.existsSync(marker)).toBe(true);
  });

  it('a COMMIT from code is refused, and a caught error cannot commit an aborted transaction', async () => {
    const db = await freshDatabase();
    const commit = await up(db.url, { '000002_commit.ts': `export async function up(ctx: any) { await ctx.query('DELETE FROM users'); await ctx.query('COMMIT'); }\nexport const deletesRows = ['users'];\n` });
    expect(commit.result.error?.message).toMatch(/COMMIT would end the migration's transaction/);
    expect(await query(db.url, `SELECT count(*)::int AS n FROM users`)).toEqual([{ n: 3 }]);
    const db2 = await freshDatabase();
    const caught = await up(db2.url, { '000002_caught.ts': `export async function up(ctx: any) { await ctx.query('ALTER TABLE users ADD COLUMN x int'); try { await ctx.query('SELECT nope'); } catch {} }\n` });
    expect(caught.result.error?.code).toBe('migration-ended-transaction');
    expect(caught.result.after).toEqual({ version: 1, dirty: false });
  });
});

describe('row-loss backstop', () => {
  it('a migration that deletes rows it does not declare is rolled back (65); declared, it runs and reports the counts', async () => {
    const db = await freshDatabase();
    const undeclared = await up(db.url, { '000002_dedupe.up.sql': "DELETE FROM users WHERE id = 3;\n" });
    expect(undeclared.result.error?.code).toBe('rows-lost');
    expect(undeclared.result.error?.message).toMatch(/deletes rows it does not declare: users \(3 -> 2\)/);
    expect(undeclared.result.after).toEqual({ version: 1, dirty: false });
    const declared = await up(db.url, { '000002_dedupe.up.sql': "-- dbshift:deletes-rows users\nDELETE FROM users WHERE id = 3;\n" });
    expect(declared.result.error).toBeUndefined();
    expect(declared.result.steps.at(-1)?.rowCounts).toEqual({ users: { before: 3, after: 2 } });
  });
});

describe('CREATE UNIQUE INDEX CONCURRENTLY on duplicates', () => {
  it('is run outside a transaction, fails, leaves the database dirty and names the INVALID index with the fix', async () => {
    const db = await freshDatabase();
    const { result } = await up(db.url, { '000002_unique_email.up.sql': 'CREATE UNIQUE INDEX CONCURRENTLY ux_users_email ON users (email);\n' });
    expect(result.steps[1]).toMatchObject({ version: 2, status: 'failed', transactional: false });
    expect(result.error?.exitCode).toBe(65);
    expect(result.error?.message).toMatch(/could not create unique index "ux_users_email"/);
    expect(result.error?.message).toMatch(/INVALID index behind: public\.ux_users_email on users/);
    expect(result.error?.hint).toMatch(/DROP INDEX CONCURRENTLY public\.ux_users_email;.*duplicate rows.*dbshift force 2/);
    expect(result.error?.dataState).toMatch(/CREATE INDEX CONCURRENTLY \(line 1\).*dirty at version 2/);
    expect(result.after).toEqual({ version: 2, dirty: true });
    expect(await query(db.url, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'ux_users_email'::regclass`)).toEqual([{ indisvalid: false }]);
  });
});

describe('lock timeout', () => {
  it('a session holding a lock on the table: 75 after the retries, naming its pid and start, nothing changed, not dirty', async () => {
    const db = await freshDatabase();
    await up(db.url, {});
    await withClient(db.url, async (holder) => {
      await holder.query('BEGIN');
      await holder.query('SELECT count(*) FROM users');
      const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const started = Date.now();
      const { result } = await up(db.url, { '000002_add_name.up.sql': 'ALTER TABLE users ADD COLUMN name text;\n' }, { lockTimeoutMs: 200, lockRetries: 2, retryDelayMs: 50 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 200);
      expect(result.error?.exitCode).toBe(75);
      expect(result.error?.code).toBe('lock-timeout');
      expect(result.error?.message).toMatch(new RegExp(`line 1 \\(ALTER TABLE users ADD …\\) waited for a lock 3 times \\(lock_timeout 200 ms each\\) and gave up: pid ${pid} holds AccessShareLock on users \\(idle in transaction, its transaction started 20`));
      expect(result.error?.hint).toContain(`pg_terminate_backend(${pid})`);
      expect(result.error?.dataState).toMatch(/nothing was changed.*not dirty/);
      expect(result.after).toEqual({ version: 1, dirty: false });
      await holder.query('ROLLBACK');
    });
    expect(await query(db.url, `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'`)).toEqual([{ n: 0 }]);
  });

  it('outside a transaction too: a first statement that never got its lock lifts the dirty mark again', async () => {
    const db = await freshDatabase();
    await up(db.url, {});
    await withClient(db.url, async (holder) => {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE users IN SHARE MODE');
      const { result } = await up(db.url, { '000002_idx.up.sql': '-- dbshift:no-transaction\nALTER TABLE users ADD COLUMN name text;\n' }, { lockTimeoutMs: 100, lockRetries: 1, retryDelayMs: 10 });
      expect(result.error?.code).toBe('lock-timeout');
      expect(result.error?.dataState).toMatch(/Nothing was changed: the version stays 1, not dirty/);
      expect(result.after).toEqual({ version: 1, dirty: false });
      await holder.query('ROLLBACK');
    });
  });

  it('statement_timeout cancels a statement that runs too long: 75, rolled back', async () => {
    const db = await freshDatabase();
    const { result } = await up(db.url, { '000002_slow.up.sql': 'SELECT pg_sleep(5);\n' }, { statementTimeoutMs: 200 });
    expect(result.error?.exitCode).toBe(75);
    expect(result.error?.code).toBe('statement-timeout');
    expect(result.after).toEqual({ version: 1, dirty: false });
  });
});
