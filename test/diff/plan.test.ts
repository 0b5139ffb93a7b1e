import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { planDiff } from '../../src/diff/plan.js';
import { introspectSqlite } from '../../src/diff/sqlite/introspect.js';
import { sqlitePlanner } from '../../src/diff/sqlite/plan.js';
import { json } from '../support/cli.js';
import { project } from '../support/project.js';
import fs from 'node:fs';
import path from 'node:path';

// The pure planner on schemas SQLite itself built (in memory): the exact statements, the way
// sqlite-utils tests transform_sql(), and what it refuses to decide.

function schemaOf(sql: string) {
  const db = new Database(':memory:');
  db.exec(sql);
  const schema = introspectSqlite(db);
  db.close();
  return schema;
}

const plan = (current: string, desired: string, options = {}) => planDiff(schemaOf(current), schemaOf(desired), sqlitePlanner, options);

describe('planDiff on SQLite', () => {
  it('in sync: no operation, whatever the spelling (case, quotes, spacing)', () => {
    const result = plan('CREATE TABLE t (id INTEGER PRIMARY KEY, "Name" text);\nCREATE INDEX ix ON t(name);', 'create table T ( id integer primary key , name TEXT );\ncreate index IX on t ( "name" );');
    expect(result).toEqual({ operations: [], findings: [] });
  });

  it("in sync: SQLAlchemy's create_all spelling of a rowid key (id INTEGER NOT NULL, PRIMARY KEY (id), UNIQUE (name)) and the hand-written one", () => {
    const result = plan('CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE);', 'CREATE TABLE users (\n\tid INTEGER NOT NULL, \n\tname VARCHAR NOT NULL, \n\tPRIMARY KEY (id), \n\tUNIQUE (name)\n);');
    expect(result).toEqual({ operations: [], findings: [] });
  });

  it('a nullable column is added with ADD COLUMN; down drops it', () => {
    const result = plan('CREATE TABLE t (id INTEGER PRIMARY KEY);', 'CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT);');
    expect(result.operations.map((o) => [o.up, o.down])).toEqual([[['ALTER TABLE t ADD COLUMN note TEXT;'], ['ALTER TABLE t DROP COLUMN note;']]]);
  });

  it('a UNIQUE column cannot be added by ADD COLUMN: the table is rebuilt, every row copied with its rowid', () => {
    const result = plan('CREATE TABLE t (id INT PRIMARY KEY, a TEXT);', 'CREATE TABLE t (id INT PRIMARY KEY, a TEXT, b TEXT UNIQUE);');
    expect(result.operations[0]!.up).toEqual([
      'CREATE TABLE _dbshift_new_t (id INT PRIMARY KEY, a TEXT, b TEXT UNIQUE);',
      'INSERT INTO _dbshift_new_t (rowid, id, a) SELECT rowid, id, a FROM t;',
      'DROP TABLE t;',
      'ALTER TABLE _dbshift_new_t RENAME TO t;',
    ]);
  });

  it('renames are never guessed: a column that disappears while one of its type appears is a finding until --rename or --allow-drop', () => {
    const [current, desired] = ['CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);', 'CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT);'];
    expect(plan(current, desired)).toEqual({ operations: [], findings: [expect.objectContaining({ code: 'possible-rename' })] });
    expect(plan(current, desired, { renameColumns: { 'users.name': 'full_name' } }).operations.map((o) => o.up)).toEqual([['ALTER TABLE users RENAME COLUMN name TO full_name;']]);
    const dropped = plan(current, desired, { allowDrop: true });
    expect(dropped.findings).toEqual([]);
    expect(dropped.operations.flatMap((o) => o.loses ?? [])).toEqual(['users.name']);
  });

  it('a table that disappears while one of the same columns appears is a possible rename; an option naming what is not there is refused', () => {
    expect(plan('CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT);', 'CREATE TABLE b (id INTEGER PRIMARY KEY, x TEXT);').findings.map((f) => f.code)).toEqual(['possible-rename']);
    expect(plan('CREATE TABLE a (id INTEGER);', 'CREATE TABLE a (id INTEGER);', { renameTables: { nope: 'a' } }).findings.map((f) => f.code)).toEqual(['bad-option']);
  });

  it('a new NOT NULL column without a default needs a value for the rows (--backfill), which the rebuild writes', () => {
    const [current, desired] = ['CREATE TABLE t (id INTEGER PRIMARY KEY);', 'CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT NOT NULL);'];
    expect(plan(current, desired).findings.map((f) => f.code)).toEqual(['needs-backfill']);
    expect(plan(current, desired, { backfill: { 't.s': "'x'" } }).operations[0]!.up[1]).toBe("INSERT INTO _dbshift_new_t (id, s) SELECT id, 'x' FROM t;");
  });

  it('views and triggers that name a rebuilt table are dropped before and created after it', () => {
    const current = 'CREATE TABLE t (id INTEGER PRIMARY KEY, a INT);\nCREATE TABLE log (x INT);\nCREATE VIEW v AS SELECT a FROM t;\nCREATE TRIGGER tr AFTER INSERT ON log BEGIN DELETE FROM t WHERE id = new.x; END;';
    const desired = current.replace('a INT)', 'a BIGINT)');
    expect(plan(current, desired).operations.map((o) => o.summary)).toEqual(['drop view v', 'drop trigger tr', 'rebuild table t (change a), every row kept', 'create trigger tr', 'create view v']);
  });
});

describe('dbshift diff: proven before written', () => {
  it('a plan whose replay fails (an FTS5 table and its shadow tables) writes nothing and exits 65, naming the failing statement', () => {
    const p = project({ '000001_init.up.sql': 'CREATE TABLE t (id INTEGER PRIMARY KEY);\n' });
    fs.writeFileSync(path.join(p.dir, 'desired.sql'), 'CREATE TABLE t (id INTEGER PRIMARY KEY);\nCREATE VIRTUAL TABLE docs USING fts5(body);\n');
    const run = p.run('diff', '-m', 'fts', '--to', 'desired.sql', '--json');
    expect(run.code).toBe(65);
    const result = json<{ error: { code: string; message: string; dataState: string } }>(run);
    expect(result.error.code).toBe('diff-not-proven');
    expect(result.error.message).toContain('fails on a scratch copy of the current schema');
    expect(result.error.dataState).toBe('Nothing was written.');
    expect(fs.readdirSync(p.migrations)).toEqual(['000001_init.up.sql']);
  }, 60_000);
});
