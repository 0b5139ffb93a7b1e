import { describe, expect, it } from 'vitest';
import { dbshift, dbshiftAsync } from '../support/cli.js';
import { freshDatabase, query, urlFor, writeMigrations } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';
import { until, waitingFor, within } from '../support/waiting.js';

// Failures a user or an operator causes on PostgreSQL are never exit 1 ("a bug in dbshift"):
// a session the server ends, a URL that is not percent-encoded, a schema the role may not read,
// a chain lint replays past a file PostgreSQL refuses.

describe('PostgreSQL exit codes', () => {
  it('a session the server ends mid-migration: 74, not a bug; after a no-transaction migration, dirty and the force hint', async () => {
    const db = await freshDatabase();
    const dir = writeMigrations(tempDir(), {
      '000001_a.up.sql': 'CREATE TABLE a (id int);',
      '000002_outside.up.sql': '-- dbshift:no-transaction\nCREATE TABLE b (id int);\nSELECT pg_sleep(600);\n',
    });
    const child = dbshiftAsync(['up', '--database', urlFor(db.name, 'application_name=killed'), '--dir', dir, '--no-backup'], { cwd: tempDir() });
    const done = within(child, 120_000);
    await until('the migration sleeps', waitingFor(db.url, 'killed', 'pg_sleep(600)'));
    // What a restart or failover does to every session of the run.
    await query(db.url, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'killed'`);
    const finished = await done;
    expect(finished.code, finished.stderr).toBe(74);
    expect(finished.stderr).toMatch(/connection to PostgreSQL was lost/);
    expect(finished.stderr).toMatch(/dirty at version 2/);
    expect(finished.stderr).toMatch(/dbshift force 2/);
    expect(finished.stderr).not.toMatch(/bug/);
  }, 180_000);

  it("a bare % in the URL's password: 64 and how to percent-encode, no stack trace", () => {
    const run = dbshift(['version', '--database', 'postgres://app:50%off@127.0.0.1:1/db', '--dir', tempDir()], { cwd: tempDir() });
    expect(run.code).toBe(64);
    expect(run.stderr).toMatch(/%25/);
    expect(run.stderr).not.toMatch(/50%off|URIError|\n\s+at /);
  });

  it('a schema the migration role may not read does not stop up', async () => {
    const db = await freshDatabase();
    const role = `${db.name}_mig`;
    await query(db.url, `CREATE SCHEMA secret; CREATE TABLE secret.x (id int); INSERT INTO secret.x VALUES (1);
      CREATE ROLE ${role} LOGIN PASSWORD 'pw'; GRANT ALL ON SCHEMA public TO ${role}`);
    const url = new URL(db.url);
    url.username = role;
    url.password = 'pw';
    const dir = writeMigrations(tempDir(), { '000001_a.up.sql': 'CREATE TABLE a (id int);' });
    const up = dbshift(['up', '--database', url.toString(), '--dir', dir, '--no-backup'], { cwd: tempDir() });
    expect(up.code, up.stdout + up.stderr).toBe(0);
  });

  it('lint replays past a file whose own BEGIN … COMMIT PostgreSQL refuses: one finding there, none after, 65', async () => {
    const db = await freshDatabase();
    const dir = writeMigrations(tempDir(), {
      '000001_a.up.sql': 'CREATE TABLE a (id int);',
      '000002_index.up.sql': 'BEGIN;\nCREATE INDEX CONCURRENTLY a_id ON a (id);\nCOMMIT;\n',
      '000003_b.up.sql': 'CREATE TABLE b (id int);',
      '000004_c.up.sql': 'ALTER TABLE b ADD COLUMN c int;',
    });
    const lint = dbshift(['lint', '--dialect', 'postgres', '--database', db.url, '--dir', dir, '--json'], { cwd: tempDir() });
    expect(lint.code, lint.stderr).toBe(65);
    const { findings } = JSON.parse(lint.stdout) as { findings: Array<{ file: string; rule: string; line: number }> };
    expect(findings.filter((f) => f.rule !== 'doc-missing' && f.rule !== 'missing-down' && f.file === '000002_index.up.sql').map((f) => f.line)).toContain(2);
    // The files after it replay on a clean session: no false "current transaction is aborted".
    expect(findings.filter((f) => f.rule === 'sql-error' && f.file !== '000002_index.up.sql')).toEqual([]);
  }, 120_000);
});
