import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshift, dbshiftAsync, ROOT } from '../support/cli.js';
import { freshDatabase, query, urlFor, withClient, writeMigrations } from '../support/pg.js';
import { until, waitingFor, within } from '../support/waiting.js';
import { tempDir } from '../support/tmp.js';
import { loadParser, splitPgStatements, splitPgStatementsAsync, topLevelPieces, type PgStatement } from '../../src/engine/drivers/postgres/statements.js';

// PostgreSQL sessions and the runs on them (issue 19: 3, 10-14): no migration inherits another's
// session state; status never waits for a running migration; Ctrl-C and the library's
// AbortSignal win against a migration that never settles; whatever user code leaves behind, the
// CLI exits with the run's code; an operator's doing is never exit 1. Real CLI child processes.

describe('PostgreSQL sessions', () => {
  it("no migration inherits another's session state; the URL's options and dbshift's own settings stay", async () => {
    const db = await freshDatabase();
    await query(db.url, `CREATE SCHEMA app; CREATE SCHEMA other; CREATE ROLE ${db.name}_limited NOLOGIN`);
    const dir = writeMigrations(tempDir(), {
      // Everything a session carries, set and left behind by migration 1.
      '000001_leave_state.up.sql': `SET search_path = other;
SET lock_timeout = 7777;
SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;
SET myapp.flag = 'on';
CREATE TEMP TABLE leftover (id int);
PREPARE leftover_stmt AS SELECT 1;
DECLARE leftover_cursor CURSOR WITH HOLD FOR SELECT 1;
LISTEN leftover_channel;
SELECT pg_advisory_lock(4711);
SET statement_timeout = 40;
SET ROLE ${db.name}_limited;
`,
      '000002_check_clean.up.sql': `SELECT pg_sleep(0.1);
DO $$ BEGIN
  IF current_setting('search_path') <> 'app' THEN RAISE EXCEPTION 'search_path leaked: %', current_setting('search_path'); END IF;
  IF current_setting('lock_timeout') <> '1500ms' THEN RAISE EXCEPTION 'lock_timeout is %', current_setting('lock_timeout'); END IF;
  IF current_setting('application_name') <> 'from_url' THEN RAISE EXCEPTION 'application_name is %', current_setting('application_name'); END IF;
  IF current_setting('myapp.flag', true) IS NOT NULL AND current_setting('myapp.flag', true) <> '' THEN RAISE EXCEPTION 'custom setting leaked'; END IF;
  IF current_user <> session_user THEN RAISE EXCEPTION 'role leaked: %', current_user; END IF;
  IF to_regclass('pg_temp.leftover') IS NOT NULL THEN RAISE EXCEPTION 'temp table leaked'; END IF;
  IF EXISTS (SELECT 1 FROM pg_prepared_statements) THEN RAISE EXCEPTION 'prepared statement leaked'; END IF;
  IF EXISTS (SELECT 1 FROM pg_cursors) THEN RAISE EXCEPTION 'cursor leaked'; END IF;
  IF EXISTS (SELECT 1 FROM pg_listening_channels()) THEN RAISE EXCEPTION 'LISTEN leaked'; END IF;
  IF EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 4711 AND pid = pg_backend_pid()) THEN RAISE EXCEPTION 'advisory lock leaked'; END IF;
END $$;
CREATE TABLE created_unqualified (id int);
`,
    });
    const url = urlFor(db.name, 'options=-c%20search_path%3Dapp&application_name=from_url');
    const up = dbshift(['up', '--database', url, '--dir', dir, '--no-backup', '--pg-lock-timeout', '1500'], { cwd: tempDir() });
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(await query(db.url, `SELECT to_regclass('app.created_unqualified') IS NOT NULL AS ok`)).toEqual([{ ok: true }]);
    expect(await query(db.url, 'SELECT version, dirty FROM app.schema_migrations')).toEqual([{ version: '2', dirty: false }]);
  });

  it('status answers at once with the committed version while an up runs; a second up gets 75 at once naming the holder', async () => {
    const db = await freshDatabase();
    const dir = writeMigrations(tempDir(), {
      '000001_a.up.sql': 'CREATE TABLE a (id int);',
      // Waits for an advisory lock this test holds: the migration runs exactly as long as the test wants.
      '000002_long.up.sql': 'ALTER TABLE a ADD COLUMN b int;\nSELECT pg_advisory_xact_lock(90210);\n',
    });
    const cwd = tempDir();
    await withClient(db.url, async (holder) => {
      await holder.query('SELECT pg_advisory_lock(90210)');
      const first = dbshiftAsync(['up', '--database', urlFor(db.name, 'application_name=first_run'), '--dir', dir, '--no-backup', '--pg-lock-timeout', '0'], { cwd });
      const firstDone = within(first, 120_000);
      await until('the first run waits in migration 2', waitingFor(db.url, 'first_run', 'pg_advisory_xact_lock'));

      const version = await within(dbshiftAsync(['version', '--database', db.url, '--dir', dir], { cwd }), 60_000);
      expect(version.code, version.stderr).toBe(0);
      expect(version.stdout).toBe('1 (a)\n');
      const history = await within(dbshiftAsync(['history', '--database', db.url, '--dir', dir, '--json'], { cwd }), 60_000);
      expect(history.code, history.stderr).toBe(0);
      expect(history.stdout).toContain('"a"');
      const second = await within(dbshiftAsync(['up', '--database', db.url, '--dir', dir, '--no-backup'], { cwd }), 60_000);
      expect(second.code, second.stderr).toBe(75);
      const [{ pid }] = await query<{ pid: number }>(db.url, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid <> 90210 LIMIT 1`);
      expect(second.stderr).toContain(`pid ${pid}`);

      await holder.query('SELECT pg_advisory_unlock(90210)');
      const done = await firstDone;
      expect(done.code, done.stderr).toBe(0);
    });
    expect(await query(db.url, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: '2', dirty: false }]);
  }, 180_000);

  it('Ctrl-C/SIGTERM wins against a code migration that never settles: rolled back, locks released, exit 130', async () => {
    const db = await freshDatabase();
    await query(db.url, 'CREATE TABLE t (id int); INSERT INTO t VALUES (1)');
    const dir = writeMigrations(tempDir(), {
      '000001_hangs.js': `export async function up(ctx) {
  await ctx.query('LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
  await ctx.query('DELETE FROM t');
  await new Promise(() => {});
}
`,
    });
    const child = dbshiftAsync(['up', '--database', urlFor(db.name, 'application_name=hangs'), '--dir', dir, '--no-backup'], { cwd: tempDir() });
    const done = within(child, 120_000);
    await until('the migration holds its lock', async () => (await query(db.url, `SELECT 1 FROM pg_stat_activity WHERE application_name = 'hangs' AND state = 'idle in transaction'`)).length > 0);
    child.kill('SIGTERM');
    const finished = await done;
    expect(finished.code, finished.stderr).toBe(130);
    expect(finished.stderr).toMatch(/rolled back|no changes were applied/i);
    // The table is readable at once (no ACCESS EXCLUSIVE left) and holds its row.
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM t')).toEqual([{ n: 1 }]);
    expect(await query(db.url, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'hangs'`)).toEqual([{ n: 0 }]);
  }, 180_000);

  it("the library's AbortSignal wins against a migration that never settles, even in a statement that ignores the cancel", async () => {
    const db = await freshDatabase();
    await query(db.url, 'CREATE TABLE t (id int); INSERT INTO t VALUES (1)');
    const work = tempDir();
    writeMigrations(path.join(work, 'migrations'), {
      '000001_hangs.js': `export async function up(ctx) {
  await ctx.query('DELETE FROM t');
  setTimeout(() => globalThis.abortDbshiftCall(), 300);
  await new Promise(() => {});
}
`,
    });
    const child = spawn(process.execPath, [path.join(ROOT, 'test/support/library.mjs'), 'up', JSON.stringify({ cwd: work, database: db.url, dir: 'migrations', backup: false })], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const finished = await within(child, 120_000);
    expect(finished.code, finished.stderr).toBe(0);
    const { result } = JSON.parse(finished.stdout) as { result: { ok: boolean; error: { exitCode: number; dataState: string } } };
    expect(result.ok).toBe(false);
    expect(result.error.exitCode).toBe(130);
    expect(result.error.dataState).toMatch(/rolled back/);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM t')).toEqual([{ n: 1 }]);
  }, 180_000);

  it('a code migration that leaves a timer and a child process behind: up exits with its code', async () => {
    const db = await freshDatabase();
    const pidFile = path.join(tempDir(), 'child.pid');
    const dir = writeMigrations(tempDir(), {
      '000001_leaves_things.js': `import { spawn } from 'node:child_process';
import fs from 'node:fs';
export async function up(ctx) {
  await ctx.query('CREATE TABLE a (id int)');
  setInterval(() => {}, 1000);
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  fs.writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
}
`,
    });
    const finished = await within(dbshiftAsync(['up', '--database', db.url, '--dir', dir, '--no-backup'], { cwd: tempDir() }), 60_000);
    try {
      expect(finished.code, finished.stderr).toBe(0);
    } finally {
      if (fs.existsSync(pidFile)) {
        try {
          process.kill(Number(fs.readFileSync(pidFile, 'utf8')));
        } catch {
          // already gone
        }
      }
    }
  });
});

describe('PostgreSQL statement splitting', () => {
  it('is linear: 50,000 statements (3 MB) split in one go, lines right (the quadratic splitter took about 10 minutes)', async () => {
    await loadParser();
    let sql = 'CREATE TABLE t (id int, v text);\n';
    for (let i = 0; i < 50_000; i++) sql += `-- row ${i}\nINSERT INTO t VALUES (${i}, 'value ${i} é');\n`;
    const statements = splitPgStatements(sql);
    expect(statements).toHaveLength(50_001);
    expect(statements.at(-1)).toMatchObject({ line: 100_001, text: `INSERT INTO t VALUES (49999, 'value 49999 é')`, type: 'InsertStmt' });
  }, 120_000);

  it('in pieces (the event loop turns between them), the same statements and lines as in one go, quotes, bodies and comments included', async () => {
    await loadParser();
    const kinds = [
      `CREATE TABLE "we;ird" (id int, "x;y" text);`,
      `-- a comment; with a semicolon\nINSERT INTO "we;ird" VALUES (1, 'a;b''c;');`,
      `/* nested /* comment; */ still; */ SELECT 1;`,
      `SELECT E'it\\'s; here';`,
      `CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN PERFORM 1; RETURN 2; END $body$;`,
      `CREATE RULE r AS ON INSERT TO "we;ird" DO ALSO (SELECT 1; SELECT 2);`,
      `SELECT 'ünïcödé; ✓', a$b FROM (SELECT 1 AS a$b) s;`,
    ];
    let sql = '';
    for (let i = 0; i < 3000; i++) sql += `${kinds[i % kinds.length]!}\n`;
    // A body the cheap cut cannot see (BEGIN ATOMIC … END): the whole file is parsed in one go.
    const atomic = `${sql}CREATE FUNCTION h() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n${sql}`;
    const plain = (statements: PgStatement[]) => statements.map(({ text, line, type }) => ({ text, line, type }));
    for (const file of [sql, atomic]) {
      expect([...topLevelPieces(file, 64 * 1024)].length).toBeGreaterThan(1);
      expect(plain(await splitPgStatementsAsync(file))).toEqual(plain(splitPgStatements(file)));
    }
    const broken = `${sql}SELEC oops;\n${sql}`;
    const lines = sql.split('\n').length;
    expect(() => splitPgStatements(broken)).toThrow(expect.objectContaining({ line: lines }));
    await expect(splitPgStatementsAsync(broken)).rejects.toMatchObject({ line: lines });
  });

  it('SIGTERM while a 100,000-statement file is read: exit 130, nothing applied (the event loop is never blocked for long)', async () => {
    const db = await freshDatabase();
    let sql = 'CREATE TABLE t (id int, v text);\n';
    for (let i = 0; i < 100_000; i++) sql += `INSERT INTO t VALUES (${i}, 'value number ${i}');\n`;
    const dir = writeMigrations(tempDir(), { '000001_huge.up.sql': sql });
    const child = dbshiftAsync(['up', '--database', urlFor(db.name, 'application_name=huge'), '--dir', dir, '--no-backup'], { cwd: tempDir() });
    const done = within(child, 150_000);
    // The CLI connects, then reads the migrations: the file is being parsed now.
    await until('the CLI connected', async () => (await query(db.url, `SELECT 1 FROM pg_stat_activity WHERE application_name = 'huge'`)).length > 0);
    child.kill('SIGTERM');
    const finished = await done;
    expect(finished.code, finished.stderr).toBe(130);
    expect(await query(db.url, `SELECT to_regclass('t') IS NULL AS nothing`)).toEqual([{ nothing: true }]);
  }, 180_000);

  it('a 20,000-statement file applies through the CLI', async () => {
    const db = await freshDatabase();
    let sql = 'CREATE TABLE t (id int, v text);\n';
    for (let i = 0; i < 20_000; i++) sql += `INSERT INTO t VALUES (${i}, 'value number ${i} with some padding');\n`;
    const dir = writeMigrations(tempDir(), { '000001_many.up.sql': sql });
    const finished = await within(dbshiftAsync(['up', '--database', db.url, '--dir', dir, '--no-backup'], { cwd: tempDir() }), 300_000);
    expect(finished.code, finished.stderr).toBe(0);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM t')).toEqual([{ n: 20_000 }]);
  }, 300_000);
});
