import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, dbshift, dbshiftAsync, json, type CliRun } from '../support/cli.js';
import { query } from '../support/fixtures.js';
import { collect, waitUntilStopped } from '../support/process.js';
import { tempDir } from '../support/tmp.js';

// The versioned engine's promises, each broken once by adversarial testing (issue 9): every
// migration all-or-nothing, no cascade during a rebuild, schema_migrations always the truth,
// one run at a time, and the exit code telling what happened.

interface VersionsJson {
  ok: boolean;
  after?: { version: number; dirty: boolean };
  steps: Array<{ version: number; status: string; transactional: boolean; note?: string; rowCounts?: Record<string, { before: number; after: number }> }>;
  notices: string[];
  error?: { code: string; exitCode: number; message: string; hint?: string; dataState?: string };
}

function project(files: Record<string, string>, env: Record<string, string> = {}) {
  const dir = tempDir();
  const migrations = path.join(dir, 'migrations');
  fs.mkdirSync(migrations);
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(migrations, name), content);
  const baseEnv = { DATABASE: 'app.db', MIGRATIONS_DIR: 'migrations', BACKUP_DIR: 'backups', ...env };
  const run = (...args: string[]): CliRun => dbshift(args, { cwd: dir, env: baseEnv });
  const up = (...args: string[]) => {
    const result = run('up', '--json', ...args);
    return { code: result.code, out: json<VersionsJson>(result) };
  };
  return { dir, migrations, db: path.join(dir, 'app.db'), env: baseEnv, run, up, write: (name: string, content: string) => fs.writeFileSync(path.join(migrations, name), content) };
}

const count = (db: string, table: string) => query<{ n: number }>(db, `SELECT count(*) AS n FROM ${table}`)[0]!.n;
const version = (p: ReturnType<typeof project>) => p.run('version').stdout.trim();

const PARENT_AND_CHILDREN = {
  '000001_authors.up.sql': `CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors (id) ON DELETE CASCADE, title TEXT);
CREATE INDEX ix_books_author_id ON books (author_id);
INSERT INTO authors (id, name) VALUES (1, 'Ada'), (2, 'Grace');
INSERT INTO books (author_id, title) VALUES (1, 'Notes'), (1, 'Engines'), (2, 'Compilers');`,
  '000001_authors.down.sql': 'DROP TABLE books; DROP TABLE authors;',
};

// sqlite.org's hand-written rebuild: new table, copy, DROP the parent, rename.
const HAND_REBUILD = `CREATE TABLE authors_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');
INSERT INTO authors_new (id, name) SELECT id, coalesce(name, '') FROM authors;
DROP TABLE authors;
ALTER TABLE authors_new RENAME TO authors;`;

describe('every migration starts from the same connection state', () => {
  it('a PRAGMA foreign_keys=ON in one migration does not reach a later rebuild: the children survive', () => {
    const p = project({
      ...PARENT_AND_CHILDREN,
      '000002_wal.up.sql': '-- dbshift:no-transaction\nPRAGMA journal_mode = WAL;\nPRAGMA foreign_keys = ON;',
      '000002_wal.down.sql': '-- dbshift:no-transaction\nPRAGMA journal_mode = DELETE;',
      '000003_rebuild_authors.up.sql': HAND_REBUILD,
      '000003_rebuild_authors.down.sql': 'SELECT 1;',
    });
    const { code, out } = p.up('--create');
    expect(code, JSON.stringify(out.error)).toBe(0);
    expect(count(p.db, 'books')).toBe(3);
    expect(version(p)).toBe('3 (rebuild_authors)');
  });

  it('a connection one migration changed is not handed to the next: its TEMP trigger and its case_sensitive_like stay with it', () => {
    const p = project({
      ...PARENT_AND_CHILDREN,
      '000002_temp.up.sql': 'CREATE TEMP TRIGGER swallow AFTER INSERT ON books BEGIN DELETE FROM books WHERE id = NEW.id; END;\nPRAGMA case_sensitive_like = ON;',
      '000002_temp.down.sql': 'SELECT 1;',
      '000003_more.up.sql': "INSERT INTO books (author_id, title) VALUES (2, 'Manuals');\nUPDATE authors SET name = 'Ada L.' WHERE name LIKE 'ada';",
      '000003_more.down.sql': 'SELECT 1;',
    });
    const { code, out } = p.up('--create');
    expect(code, JSON.stringify(out.error)).toBe(0);
    expect(count(p.db, 'books')).toBe(4);
    expect(query<{ name: string }>(p.db, 'SELECT name FROM authors WHERE id = 1')[0]!.name).toBe('Ada L.');
  });

  it('backstop: a table that loses rows the migration did not declare refuses the commit, naming the table', () => {
    const p = project({
      ...PARENT_AND_CHILDREN,
      '000002_purge.up.sql': 'DELETE FROM books WHERE author_id = 1;',
      '000002_purge.down.sql': 'SELECT 1;',
    });
    expect(p.up('--create', '1').code).toBe(0);
    const { code, out } = p.up();
    expect(code).toBe(65);
    expect(out.error?.code).toBe('rows-lost');
    expect(out.error?.message).toContain('books (3 -> 1)');
    expect(out.error?.hint).toContain('-- dbshift:deletes-rows books');
    expect(out.error?.dataState).toContain('rolled back');
    expect(count(p.db, 'books')).toBe(3);
    expect(version(p)).toBe('1 (authors)');

    // Declared, the same deletion is the migration's intent; the result shows the counts.
    p.write('000002_purge.up.sql', '-- dbshift:deletes-rows books\nDELETE FROM books WHERE author_id = 1;');
    p.run('force', '1');
    const declared = p.up();
    expect(declared.code, JSON.stringify(declared.out.error)).toBe(0);
    expect(declared.out.steps[0]!.rowCounts).toEqual({ books: { before: 3, after: 1 } });
  });

  it('backstop: a renamed table is still the same table; rows it lost count', () => {
    const p = project({
      ...PARENT_AND_CHILDREN,
      '000002_rename.up.sql': 'ALTER TABLE books RENAME TO volumes;\nDELETE FROM volumes WHERE author_id = 1;',
      '000002_rename.down.sql': 'ALTER TABLE volumes RENAME TO books;',
    });
    expect(p.up('--create', '1').code).toBe(0);
    const { code, out } = p.up();
    expect(code).toBe(65);
    expect(out.error?.message).toContain('books (now volumes) (3 -> 1)');
    expect(count(p.db, 'books')).toBe(3);
  });

  it('backstop outside a transaction: a cascade in a no-transaction migration leaves it dirty, naming the table', () => {
    const p = project({
      ...PARENT_AND_CHILDREN,
      '000002_rebuild.up.sql': `-- dbshift:no-transaction\nPRAGMA foreign_keys = ON;\n${HAND_REBUILD}`,
      '000002_rebuild.down.sql': 'SELECT 1;',
    });
    expect(p.up('--create', '1').code).toBe(0);
    const { code, out } = p.up();
    expect(code).toBe(65);
    expect(out.error?.code).toBe('rows-lost');
    expect(out.error?.message).toMatch(/books \(3 -> 0\)/);
    expect(out.error?.hint).toContain('dbshift force 2');
    expect(version(p)).toBe('2 (rebuild) DIRTY');
  });
});

describe('schema_migrations always tells the truth', () => {
  it('a file with its own COMMIT in the middle runs under the dirty protocol: no rollback is claimed that did not happen', () => {
    const p = project({
      '000001_t.up.sql': 'BEGIN;\nCREATE TABLE t (id INTEGER PRIMARY KEY);\nCOMMIT TRANSACTION t1;\nINSERT INTO missing VALUES (1);',
      '000001_t.down.sql': 'DROP TABLE t;',
    });
    const dry = p.run('up', '--create', '--dry-run', '--json');
    expect(json<VersionsJson>(dry).steps[0]).toMatchObject({ transactional: false, note: expect.stringContaining('000001_t.up.sql:1 controls its own transaction') });
    const { code, out } = p.up('--create');
    expect(code).toBe(65);
    expect(out.error?.dataState).not.toContain('rolled back');
    expect(out.error?.dataState).toContain('marked dirty at version 1');
    expect(version(p)).toBe('1 (t) DIRTY');
  });

  it('a COMMIT with no BEGIN before it is refused before anything runs (66), instead of failing half-applied', () => {
    const p = project({ '000001_t.up.sql': 'CREATE TABLE t (id INTEGER PRIMARY KEY);\nCOMMIT;\nCREATE TABLE u (id INTEGER);', '000001_t.down.sql': 'DROP TABLE t;' });
    const { code, out } = p.up('--create');
    expect(code).toBe(66);
    expect(out.error?.code).toBe('migration-not-runnable');
    expect(out.error?.message).toContain('line 2: COMMIT ends a transaction the file never began');
    expect(query(p.db, `SELECT name FROM sqlite_master`)).toEqual([]);
  });

  it('a trigger with CASE … END; inside is one statement, not a transaction control: the file keeps its transaction', () => {
    const p = project({
      '000001_t.up.sql': `CREATE TABLE a (x INTEGER, y TEXT);
CREATE TRIGGER a_label AFTER INSERT ON a BEGIN UPDATE a SET y = CASE WHEN NEW.x > 0 THEN 'pos' ELSE 'neg' END; END;
INSERT INTO missing VALUES (1);`,
      '000001_t.down.sql': 'DROP TABLE a;',
    });
    const { code, out } = p.up('--create');
    expect(code).toBe(65);
    expect(out.steps[0]!.transactional).toBe(true);
    expect(out.error?.dataState).toContain('rolled back');
    expect(version(p)).toBe('0 (nothing applied)');
  });

  it('a file wrapped in BEGIN … COMMIT runs inside dbshift\'s transaction: its failure leaves nothing behind', () => {
    const p = project({
      '000001_t.up.sql': 'BEGIN TRANSACTION;\nCREATE TABLE t (id INTEGER PRIMARY KEY);\nINSERT INTO missing VALUES (1);\nCOMMIT;',
      '000001_t.down.sql': 'DROP TABLE t;',
    });
    const { code, out } = p.up('--create');
    expect(code).toBe(65);
    expect(out.error?.dataState).toContain('rolled back');
    expect(query(p.db, `SELECT name FROM sqlite_master WHERE name = 't'`)).toEqual([]);
    expect(version(p)).toBe('0 (nothing applied)');
    p.write('000001_t.up.sql', 'BEGIN TRANSACTION;\nCREATE TABLE t (id INTEGER PRIMARY KEY);\nCOMMIT;');
    expect(p.up().code).toBe(0);
    expect(version(p)).toBe('1 (t)');
  });

  it('a code migration that commits on its own cannot make a failure look rolled back', () => {
    const p = project({
      '000001_t.ts': `export function up(ctx: any) { ctx.exec('CREATE TABLE t (id INTEGER)'); ctx.exec('COMMIT'); ctx.exec('BEGIN'); throw new Error('boom'); }
export function down(ctx: any) { ctx.exec('DROP TABLE t'); }`,
    });
    const { code, out } = p.up('--create');
    expect(code).toBe(65);
    expect(out.error?.message).toContain('boom');
    expect(out.error?.dataState).toContain('marked dirty at version 1');
    expect(version(p)).toBe('1 (t) DIRTY');
  });

  it('the dirty mark is one transaction: a failure between its two writes leaves the old row, not an empty table', () => {
    const p = project(PARENT_AND_CHILDREN);
    expect(p.up('--create').code).toBe(0);
    p.write('000002_vacuum.up.sql', '-- dbshift:no-transaction\nVACUUM;');
    p.write('000002_vacuum.down.sql', 'SELECT 1;');
    // Make the INSERT of the dirty mark fail after its DELETE ran.
    const db = new Database(p.db);
    db.exec(`CREATE TRIGGER refuse_mark BEFORE INSERT ON schema_migrations BEGIN SELECT RAISE(FAIL, 'no'); END;`);
    db.close();
    expect(p.up().code).not.toBe(0);
    expect(query(p.db, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: 1, dirty: 0 }]);
    expect(version(p)).toBe('1 (authors)');
  });

  it('a version already applied by another migration set is named as such, not as "changed"', () => {
    const p = project({ '000001_create_tasks.up.sql': 'CREATE TABLE tasks (id INTEGER PRIMARY KEY);', '000001_create_tasks.down.sql': 'DROP TABLE tasks;' });
    // What `dbshift migrate` leaves: version 1 of the built-in set health-records.
    const db = new Database(p.db);
    db.exec(`CREATE TABLE schema_migrations (version uint64,dirty bool); INSERT INTO schema_migrations VALUES (1, 0);
             CREATE TABLE dbshift_history (id INTEGER PRIMARY KEY, version INTEGER NOT NULL, name TEXT NOT NULL, direction TEXT NOT NULL, checksum TEXT, applied_at TEXT NOT NULL, duration_ms INTEGER NOT NULL);
             INSERT INTO dbshift_history (version, name, direction, checksum, applied_at, duration_ms) VALUES (1, 'health_records_v5', 'up', 'abc', '2026-11-01T00:00:00Z', 0);`);
    db.close();
    const { code, out } = p.up();
    expect(code).toBe(65);
    expect(out.error?.code).toBe('version-taken');
    expect(out.error?.message).toContain('version 1 of this database is 000001_health_records_v5, not 000001_create_tasks');
    expect(out.error?.message).not.toContain('changed');
    expect(out.error?.hint).toContain('number yours above');
  });

  it('after a write that died mid-transaction (hot journal), `version` and `history` open the database and tell the truth', () => {
    const p = project(PARENT_AND_CHILDREN);
    expect(p.up('--create').code).toBe(0);
    // A writer killed inside its transaction leaves a hot journal, as a full disk can.
    const killed = spawnSync(process.execPath, ['-e', `
      const D = require(${JSON.stringify(require.resolve('better-sqlite3'))});
      const db = new D(${JSON.stringify(p.db)});
      db.pragma('cache_size = 1');
      db.exec('BEGIN IMMEDIATE; UPDATE schema_migrations SET version = 7; INSERT INTO authors (name) SELECT name FROM authors; INSERT INTO books (title) SELECT hex(randomblob(4000)) FROM books, books, books;');
      process.kill(process.pid, 'SIGKILL');`]);
    expect(killed.signal).toBe('SIGKILL');
    expect(fs.statSync(`${p.db}-journal`).size).toBeGreaterThan(0);
    const current = p.run('version');
    expect(current.code, current.stderr + current.stdout).toBe(0);
    expect(current.stdout.trim()).toBe('1 (authors)');
    expect(p.run('history').code).toBe(0);
    expect(count(p.db, 'books')).toBe(3);
  });
});

describe('a full disk', () => {
  it('ENOSPC while committing a migration: exit 74, and the next command opens the database and tells the truth', () => {
    const p = project(PARENT_AND_CHILDREN);
    expect(p.up('--create').code).toBe(0);
    p.write('000002_grow.up.sql', `CREATE TABLE grow (b BLOB);\nWITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO grow SELECT randomblob(4000) FROM n;`);
    p.write('000002_grow.down.sql', 'DROP TABLE grow;');
    // Every write to the database file fails as on a full disk (its journal still writes).
    const traced = spawnSync('strace', ['-f', '-o', '/dev/null', '-P', p.db, '-e', 'trace=pwrite64,write', '-e', 'inject=pwrite64,write:error=ENOSPC', process.execPath, CLI, 'up', '--no-backup', '--json'], {
      cwd: p.dir,
      env: { PATH: process.env.PATH ?? '', ...p.env },
      encoding: 'utf8',
    });
    expect(traced.status, traced.stderr).toBe(74);
    expect(JSON.parse(traced.stdout).error.code).toBe('io-error');
    for (const command of ['version', 'history']) expect(p.run(command).code).toBe(0);
    expect(version(p)).toBe('1 (authors)');
    expect(query(p.db, `SELECT name FROM sqlite_master WHERE name = 'grow'`)).toEqual([]);
    expect(query(p.db, 'PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    expect(p.up().code).toBe(0);
  });
});

describe('one run at a time, through any path', () => {
  it('the lock is keyed on the database\'s real file: a run through a symlink meets the lock of a run through the real path', () => {
    const p = project(PARENT_AND_CHILDREN);
    expect(p.up('--create').code).toBe(0);
    const elsewhere = path.join(p.dir, 'elsewhere');
    fs.mkdirSync(elsewhere);
    fs.symlinkSync(p.db, path.join(elsewhere, 'link.db'));
    // A live run holds the lock beside the real file.
    fs.writeFileSync(path.join(p.dir, '.dbshift.lock'), JSON.stringify({ pid: process.pid, host: require('node:os').hostname(), startedAt: new Date().toISOString(), command: 'up' }));
    p.write('000002_more.up.sql', 'CREATE TABLE more (id INTEGER);');
    p.write('000002_more.down.sql', 'DROP TABLE more;');
    const viaLink = p.run('up', '--database', path.join(elsewhere, 'link.db'), '--json');
    expect(viaLink.code).toBe(75);
    expect(json<VersionsJson>(viaLink).error?.code).toBe('instance-locked');
    expect(fs.existsSync(path.join(elsewhere, '.dbshift.lock'))).toBe(false);
  });
});

describe('user code cannot make dbshift lie', () => {
  it('work a migration schedules for later cannot reach the database: a delayed DELETE fails, nothing is lost', () => {
    const p = project({
      ...PARENT_AND_CHILDREN,
      '000002_sneaky.ts': `export function up(ctx: any) { ctx.exec('CREATE TABLE b (x)'); setImmediate(() => { try { ctx.exec('DELETE FROM books'); } catch {} }); const db = ctx.db; setImmediate(() => { try { db.exec('DELETE FROM authors'); } catch {} }); }\nexport function down() {}`,
    });
    expect(p.up('--create', '1').code).toBe(0);
    // The context is revoked when up() returns: the callbacks' writes fail, the migration itself applies.
    const { code, out } = p.up();
    expect(code, JSON.stringify(out.error)).toBe(0);
    expect([count(p.db, 'books'), count(p.db, 'authors')]).toEqual([3, 2]);
  });

  it('what the connection handed out inside up() is revoked with it: a prepared statement, a chained one, a transaction function', () => {
    const p = project({
      ...PARENT_AND_CHILDREN,
      // An UPDATE loses no rows, so the row-count backstop would not see it: only the revocation stops it.
      '000002_sneaky.ts': `export function up(ctx: any) {
  ctx.exec('CREATE TABLE b (x)');
  const rename = ctx.db.prepare("UPDATE authors SET name = 'changed'");
  const chained = ctx.db.prepare("UPDATE books SET title = 'changed'").bind();
  const later = ctx.db.transaction(() => ctx.exec("UPDATE authors SET name = 'changed too'"));
  setImmediate(() => { for (const f of [() => rename.run(), () => chained.run(), () => later(), () => later.immediate()]) { try { f(); } catch {} } });
}
export function down() {}`,
    });
    expect(p.up('--create', '1').code).toBe(0);
    const { code, out } = p.up();
    expect(code, JSON.stringify(out.error)).toBe(0);
    expect(query(p.db, `SELECT count(*) AS n FROM authors WHERE name LIKE 'changed%'`)).toEqual([{ n: 0 }]);
    expect(query(p.db, `SELECT count(*) AS n FROM books WHERE title = 'changed'`)).toEqual([{ n: 0 }]);
    expect(version(p)).toBe('2 (sneaky)');
  });

  it('a migration that ends dbshift\'s transaction (INSERT OR ROLLBACK, ROLLBACK; BEGIN) is reported dirty, never as applied or rolled back', () => {
    for (const [name, up] of [
      ['or_rollback', `try { ctx.exec('INSERT OR ROLLBACK INTO authors (id, name) VALUES (1, 1)'); } catch {} ctx.exec('CREATE TABLE c (x)');`],
      ['rollback_begin', `ctx.exec('CREATE TABLE b (x)'); ctx.exec('ROLLBACK; BEGIN'); ctx.exec('CREATE TABLE c (x)');`],
    ] as const) {
      const p = project({ ...PARENT_AND_CHILDREN, [`000002_${name}.ts`]: `export function up(ctx: any) { ${up} }\nexport function down() {}` });
      expect(p.up('--create', '1').code).toBe(0);
      const { code, out } = p.up();
      expect([name, code]).toEqual([name, 65]);
      expect(out.error?.dataState).toContain('marked dirty at version 2');
      expect(version(p)).toBe(`2 (${name}) DIRTY`);
    }
  });

  it('process.exit from a module\'s top level or a scheduled callback cannot end dbshift with 0: exit 65, lock released', () => {
    for (const [name, code] of [
      ['top_level', `process.exit(0);\nexport function up() {}\nexport function down() {}`],
      ['callback', `export function up(ctx: any) { ctx.exec('CREATE TABLE t (x)'); setImmediate(() => process.exit(0)); }\nexport function down() {}`],
    ] as const) {
      const p = project({ [`000001_${name}.ts`]: code });
      const run = p.run('up', '--create', '--no-backup');
      expect([name, run.code]).toEqual([name, 65]);
      expect(run.stderr).toContain('a migration ended the process');
      expect(fs.existsSync(path.join(p.dir, '.dbshift.lock'))).toBe(false);
      expect(version(p)).toBe('0 (nothing applied)');
    }
  });

  it('code migrations exported the other ways Node allows are read as such: export lists, CommonJS', () => {
    const p = project({
      '000001_list.ts': `const transaction = false;\nfunction up(ctx: any) { ctx.exec('VACUUM'); }\nfunction down() {}\nexport { up, down, transaction };`,
    });
    fs.writeFileSync(path.join(p.migrations, 'package.json'), '{}');
    p.write('000002_cjs.js', `exports.up = function (ctx) { ctx.exec('CREATE TABLE cjs (x)'); };\nexports.down = function (ctx) { ctx.exec('DROP TABLE cjs'); };`);
    const { code, out } = p.up('--create');
    expect(code, JSON.stringify(out.error)).toBe(0);
    expect(out.steps.map((s) => s.transactional)).toEqual([false, true]);
    expect(version(p)).toBe('2 (cjs)');
  });

  it('process.exit(0) inside a migration is a failed, rolled-back migration (65), with no lock or journal left', () => {
    const p = project({ '000001_exit.ts': `export function up(ctx: any) { ctx.exec('CREATE TABLE t (id INTEGER)'); process.exit(0); }\nexport function down() {}` });
    const { code, out } = p.up('--create');
    expect(code).toBe(65);
    expect(out.error?.code).toBe('migration-called-exit');
    expect(out.error?.dataState).toContain('rolled back');
    expect(version(p)).toBe('0 (nothing applied)');
    expect(fs.readdirSync(p.dir).filter((f) => f.includes('lock') || f.endsWith('-journal'))).toEqual([]);
  });

  it('throw null is the migration\'s failure (65), and outside a transaction it says dirty and how to force', () => {
    const p = project({ '000001_null.ts': `export const transaction = false;\nexport function up() { throw null; }\nexport function down() {}` });
    const { code, out } = p.up('--create');
    expect(code).toBe(65);
    expect(out.error?.message).toContain('it threw null');
    expect(out.error?.hint).toContain('dbshift force 1');
    expect(version(p)).toBe('1 (null) DIRTY');
  });

  it('Ctrl-C during a long synchronous migration rolls it back and exits 130; a second Ctrl-C leaves at once, committing nothing', async () => {
    for (const presses of [1, 2]) {
      const started = path.join(tempDir(), 'started');
      const p = project({
        ...PARENT_AND_CHILDREN,
        '000002_slow.ts': `import fs from 'node:fs';
export function up(ctx: any) { ctx.exec('CREATE TABLE slow (id INTEGER)'); fs.writeFileSync(${JSON.stringify(started)}, 'x'); const end = Date.now() + 1500; while (Date.now() < end) {} }
export function down() {}`,
      });
      expect(p.up('--create', '1').code).toBe(0);
      const child = dbshiftAsync(['up', '--no-backup'], { cwd: p.dir, env: p.env });
      const done = collect(child);
      while (!fs.existsSync(started)) await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < presses; i++) child.kill('SIGINT');
      const finished = await done;
      // 130 from dbshift, or (second Ctrl-C) the default action of SIGINT, which a shell shows as 130 too.
      expect([presses, finished.code ?? (finished.signal === 'SIGINT' ? 130 : finished.signal)], finished.stdout + finished.stderr).toEqual([presses, 130]);
      expect(finished.stdout).not.toMatch(/: OK/);
      expect(version(p)).toBe('1 (authors)');
      expect(query(p.db, `SELECT name FROM sqlite_master WHERE name = 'slow'`)).toEqual([]);
    }
  });

  it('lint, validate, version, history and --dry-run change nothing: they neither import a code migration nor run its up()', () => {
    const markers = tempDir();
    const p = project({
      '000001_side.ts': `import fs from 'node:fs';
fs.writeFileSync(${JSON.stringify(path.join(markers, 'imported'))}, 'x');
export const transaction = false;
export function up() { fs.writeFileSync(${JSON.stringify(path.join(markers, 'ran'))}, 'x'); }
export function down() {}`,
    });
    for (const args of [['lint'], ['validate'], ['up', '--create', '--dry-run', '--json'], ['version'], ['history']]) {
      const result = p.run(...args);
      expect([args.join(' '), fs.readdirSync(markers)]).toEqual([args.join(' '), []]);
      if (args.includes('--dry-run')) expect(json<VersionsJson>(result).steps[0]!.transactional).toBe(false);
    }
    expect(p.up('--create').code).toBe(0);
    expect(fs.readdirSync(markers).sort()).toEqual(['imported', 'ran']);
  });
});

describe('every failure gets its documented exit code', () => {
  it('an unreadable migration file is bad input (66), not "cannot create" (73)', () => {
    const p = project({ '000001_a.up.sql': 'CREATE TABLE a (id INTEGER);' });
    fs.mkdirSync(path.join(p.migrations, '000001_a.down.sql'));
    const run = p.run('up', '--create', '--json');
    expect(run.code).toBe(66);
    expect(json<VersionsJson>(run).error?.code).toBe('unreadable-migration');
  });

  it('a partial backup left by a killed run is removed by the next run of that database, with a notice; another app.db\'s is left alone', () => {
    const p = project(PARENT_AND_CHILDREN);
    fs.mkdirSync(path.join(p.dir, 'backups'));
    // Partial names carry a hash of the database's real path: a shared backup directory may hold
    // another app.db's partial backup, in progress under that database's own lock.
    const owner = (file: string) => require('node:crypto').createHash('sha256').update(file).digest('hex').slice(0, 12);
    const leftover = path.join(p.dir, 'backups', `.app_backup_20260101_000000.db.partial-${owner(p.db)}.dbshift-tmp`);
    const unrelated = path.join(p.dir, 'backups', `.app_backup_20260101_000000.db.partial-${owner('/elsewhere/app.db')}.dbshift-tmp`);
    fs.writeFileSync(leftover, 'half');
    fs.writeFileSync(unrelated, 'another database\'s run');
    const { code, out } = p.up('--create');
    expect(code).toBe(0);
    expect(fs.existsSync(leftover)).toBe(false);
    expect(fs.existsSync(unrelated)).toBe(true);
    expect(out.notices.join('\n')).toContain(`Removed ${leftover}`);
  });

  it('Ctrl-C during up\'s backup exits 130, changes nothing and leaves no partial backup', async () => {
    const p = project(PARENT_AND_CHILDREN, { NODE_ENV: 'test', DBSHIFT_FAULT: 'pause@engine-backup-pages' });
    expect(dbshift(['up', '--create', '--no-backup'], { cwd: p.dir, env: { ...p.env, DBSHIFT_FAULT: '' } }).code).toBe(0);
    // Big enough (~40 MB) for the backup to take several steps of the online backup API.
    const db = new Database(p.db);
    db.exec(`CREATE TABLE blobs (b BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) INSERT INTO blobs SELECT randomblob(4000) FROM n;`);
    db.close();
    p.write('000002_more.up.sql', 'CREATE TABLE more (id INTEGER);');
    p.write('000002_more.down.sql', 'DROP TABLE more;');
    const child = dbshiftAsync(['up', '--json'], { cwd: p.dir, env: p.env });
    const done = collect(child);
    await waitUntilStopped(child.pid!);
    child.kill('SIGINT');
    child.kill('SIGCONT');
    const finished = await done;
    expect(finished.code, finished.stderr).toBe(130);
    expect(JSON.parse(finished.stdout).error.code).toBe('interrupted');
    expect(fs.readdirSync(path.join(p.dir, 'backups')), finished.stdout).toEqual([]);
    expect(version(p)).toBe('1 (authors)');
  });

  it('Ctrl-C while the run is still planning (lint replays a slow statement) stops it before the first migration starts; a database it created gets no backup line', async () => {
    const p = project({
      '000001_big.up.sql': `CREATE TABLE big AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000000) SELECT i, hex(randomblob(16)) AS x FROM n;`,
      '000001_big.down.sql': 'DROP TABLE big;',
    });
    const child = dbshiftAsync(['up', '--create'], { cwd: p.dir, env: p.env });
    const done = collect(child);
    // The lock is taken before planning; the replay of the big statement then keeps the event loop busy.
    while (!fs.existsSync(path.join(p.dir, '.dbshift.lock'))) await new Promise((r) => setTimeout(r, 10));
    child.kill('SIGINT');
    const finished = await done;
    expect(finished.code, finished.stderr).toBe(130);
    expect(finished.stderr).toContain('Interrupted before 000001_big');
    expect(finished.stderr).not.toMatch(/dbshift: up 000001_big|backing up/);
    expect(version(p)).toBe('0 (nothing applied)');
  });
});
