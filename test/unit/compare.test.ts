import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareWithBaseline, type BaselineComparison } from '../../src/sqlite/compare.js';
import { tempDir } from '../support/tmp.js';

// The pipeline's proof that "every pre-existing column of every row is byte-identical":
// a baseline file (the pristine backup) is attached to the migrated file's connection.

const BASELINE = `
  CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE, score, note TEXT NOT NULL);
  CREATE INDEX ix_person_name ON person (name);
  CREATE TABLE tag (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;
  CREATE TABLE item (id INTEGER PRIMARY KEY AUTOINCREMENT, label TEXT, fill TEXT);
  CREATE TRIGGER item_label AFTER UPDATE ON item BEGIN SELECT 1; END;
  INSERT INTO person VALUES (1, 'Anna', 1, 'a'), (2, 'Ben', '1', 'b'), (3, 'Clara', NULL, 'c');
  INSERT INTO tag VALUES ('x', 1), ('y', 2);
  INSERT INTO item (label, fill) VALUES ('one', NULL), ('two', 'kept');
  PRAGMA user_version = 7;
`;
const TABLES = ['item', 'person', 'sqlite_sequence', 'tag'];
const ROWS: Record<string, number> = { item: 2, person: 3, sqlite_sequence: 1, tag: 2 };

/** Build the baseline, copy it to main, change main with `mutation`, and compare. */
async function compare(mutation: string, fillable: string[] = [], baselineSql = BASELINE): Promise<BaselineComparison> {
  const dir = tempDir();
  const baselineFile = path.join(dir, 'baseline.db');
  const mainFile = path.join(dir, 'main.db');
  const baseline = new Database(baselineFile);
  baseline.exec(baselineSql);
  baseline.close();
  fs.copyFileSync(baselineFile, mainFile);

  const db = new Database(mainFile);
  try {
    db.exec(mutation);
    db.prepare(`ATTACH DATABASE ? AS baseline`).run(baselineFile);
    return await compareWithBaseline(db, 'baseline', new Set(fillable));
  } finally {
    db.close();
  }
}

/** Every table compared, with `differing` ids per table (others must show none). */
function expectTables(result: BaselineComparison, differing: Record<string, Array<number | string>>, after: Record<string, number> = {}): void {
  expect(result.tables.map((t) => t.table)).toEqual(TABLES);
  for (const t of result.tables) {
    const ids = differing[t.table] ?? [];
    expect({ table: t.table, before: t.before, after: t.after, differing: t.differing, sampleIds: t.sampleIds }).toEqual({
      table: t.table,
      before: ROWS[t.table],
      after: after[t.table] ?? ROWS[t.table],
      differing: ids.length,
      sampleIds: ids,
    });
  }
}

describe('compareWithBaseline: rows and values', () => {
  it('an identical copy differs nowhere and has no schema problems', async () => {
    const result = await compare('');
    expectTables(result, {});
    expect(result.schemaProblems).toEqual([]);
  });

  it.each<[string, string, Record<string, Array<number | string>>]>([
    ['a changed value', `UPDATE person SET note = 'z' WHERE id = 2`, { person: [2] }],
    ['INTEGER 1 -> REAL 1.0 (equal in SQL)', `UPDATE person SET score = 1.0 WHERE id = 1`, { person: [1] }],
    ["TEXT '1' -> INTEGER 1", `UPDATE person SET score = 1 WHERE id = 2`, { person: [2] }],
    ["INTEGER 1 -> TEXT '1'", `UPDATE person SET score = '1' WHERE id = 1`, { person: [1] }],
    ["TEXT -> BLOB with the same bytes", `UPDATE person SET note = CAST('c' AS BLOB) WHERE id = 3`, { person: [3] }],
    ['NULL -> value', `UPDATE person SET score = 0 WHERE id = 3`, { person: [3] }],
    ['value -> NULL', `UPDATE person SET score = NULL WHERE id = 1`, { person: [1] }],
    ['a case-only change in a COLLATE NOCASE column', `UPDATE person SET name = 'ANNA' WHERE id = 1`, { person: [1] }],
    ['a trailing space', `UPDATE person SET name = 'Ben ' WHERE id = 2`, { person: [2] }],
    ['a WITHOUT ROWID value', `UPDATE tag SET v = 3 WHERE k = 'y'`, { tag: ['y'] }],
    ['a WITHOUT ROWID key', `UPDATE tag SET k = 'X' WHERE k = 'x'`, { tag: ['x'] }],
    ['an sqlite_sequence entry', `UPDATE sqlite_sequence SET seq = 10 WHERE name = 'item'`, { sqlite_sequence: [1] }],
    ['several rows in several tables', `UPDATE person SET note = note || '!'; UPDATE item SET label = upper(label)`, { person: [1, 2, 3], item: [1, 2] }],
  ])('detects %s', async (_label, mutation, differing) => {
    const result = await compare(mutation);
    expectTables(result, differing);
    expect(result.schemaProblems).toEqual([]);
  });

  it('detects a deleted row', async () => {
    const result = await compare(`DELETE FROM person WHERE id = 3`);
    expectTables(result, { person: [3] }, { person: 2 });
  });

  it('detects a deleted WITHOUT ROWID row', async () => {
    const result = await compare(`DELETE FROM tag WHERE k = 'x'`);
    expectTables(result, { tag: ['x'] }, { tag: 1 });
  });

  it('detects an added row through the counts', async () => {
    const result = await compare(`INSERT INTO person VALUES (4, 'Dora', 2, 'd')`);
    expectTables(result, {}, { person: 4 });
    const person = result.tables.find((t) => t.table === 'person');
    expect(person?.after).not.toBe(person?.before);
  });

  it('detects a row moved to another rowid', async () => {
    const result = await compare(`UPDATE person SET id = 30 WHERE id = 3`);
    expectTables(result, { person: [3] });
  });
});

describe('compareWithBaseline: fillable columns', () => {
  it.each<[string, string, string[], Record<string, Array<number | string>>]>([
    ['NULL -> value in a fillable column is allowed', `UPDATE item SET fill = 'new' WHERE id = 1`, ['item.fill'], {}],
    ['NULL -> value in the same column, not fillable, is not', `UPDATE item SET fill = 'new' WHERE id = 1`, [], { item: [1] }],
    ['value -> other value in a fillable column is not', `UPDATE item SET fill = 'changed' WHERE id = 2`, ['item.fill'], { item: [2] }],
    ['value -> NULL in a fillable column is not', `UPDATE item SET fill = NULL WHERE id = 2`, ['item.fill'], { item: [2] }],
    ['a storage-class change in a fillable column is not', `UPDATE person SET score = 1.0 WHERE id = 1`, ['person.score'], { person: [1] }],
    ['fillable names another column, not this one', `UPDATE item SET fill = 'new' WHERE id = 1`, ['item.label', 'person.fill'], { item: [1] }],
  ])('%s', async (_label, mutation, fillable, differing) => {
    const result = await compare(mutation, fillable);
    expectTables(result, differing);
    expect(result.schemaProblems).toEqual([]);
  });
});

describe('compareWithBaseline: schema', () => {
  it.each<[string, string, string[]]>([
    ['a dropped index', `DROP INDEX ix_person_name`, ['index ix_person_name is missing']],
    ['an index on other columns', `DROP INDEX ix_person_name; CREATE INDEX ix_person_name ON person (note)`, ['index ix_person_name changed its definition']],
    ['a dropped trigger', `DROP TRIGGER item_label`, ['trigger item_label is missing']],
    ['a changed user_version', `PRAGMA user_version = 8`, ['user_version changed from 7 to 8']],
  ])('detects %s', async (_label, mutation, problems) => {
    const result = await compare(mutation);
    expect(result.schemaProblems).toEqual(problems);
    expectTables(result, {});
  });

  it('detects a dropped column', async () => {
    const result = await compare(`ALTER TABLE item DROP COLUMN fill`);
    expect(result.schemaProblems).toEqual(['table item lost columns fill', 'table item changed its definition']);
    expect(result.tables.find((t) => t.table === 'item')?.differing).toBe(2);
  });

  it('detects a dropped table', async () => {
    const result = await compare(`DROP TABLE tag`);
    expect(result.schemaProblems).toContain('table tag is missing');
    expect(result.tables.find((t) => t.table === 'tag')).toMatchObject({ before: 2, after: 0, differing: 2 });
  });

  it('accepts columns appended with ALTER TABLE ADD COLUMN, filled or not', async () => {
    const result = await compare(`
      ALTER TABLE person ADD COLUMN extra TEXT;
      ALTER TABLE person ADD COLUMN status VARCHAR(20) DEFAULT 'pending';
      UPDATE person SET extra = 'e';
      ALTER TABLE tag ADD COLUMN w INTEGER;
      CREATE TABLE brand_new (id INTEGER PRIMARY KEY);
      CREATE INDEX ix_extra ON person (extra);
    `);
    expect(result.schemaProblems).toEqual([]);
    expectTables(result, {});
  });

  it('accepts ADD COLUMN on a table with table constraints, where SQLite inserts before the constraints', async () => {
    const baselineSql = `CREATE TABLE r (id INTEGER NOT NULL, p INTEGER,\n  PRIMARY KEY (id), UNIQUE (p)); INSERT INTO r VALUES (1, 1);`;
    const added = await compare(`ALTER TABLE r ADD COLUMN a VARCHAR(20) DEFAULT 'x'; ALTER TABLE r ADD COLUMN "b c" TEXT;`, [], baselineSql);
    expect(added.schemaProblems).toEqual([]);
    // Text inserted inside an existing column's definition is a change, even when a column is also added.
    const sneaky = await compare(
      `ALTER TABLE r RENAME TO r_old;
       CREATE TABLE r (id INTEGER NOT NULL, p INTEGER DEFAULT 5, z TEXT,\n  PRIMARY KEY (id), UNIQUE (p));
       INSERT INTO r (id, p) SELECT id, p FROM r_old;
       DROP TABLE r_old;`,
      [],
      baselineSql,
    );
    expect(sneaky.schemaProblems).toEqual(['table r changed its definition']);
  });

  it.each<[string, string]>([
    ['NOT NULL removed', 'CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE, score, note TEXT)'],
    ['collation removed', 'CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT, score, note TEXT NOT NULL)'],
    ['declared type changed', 'CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE, score, note VARCHAR(10) NOT NULL)'],
    ['a DEFAULT added', "CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE, score, note TEXT NOT NULL DEFAULT '')"],
  ])('reports a changed column definition (%s), same column names', async (_label, createPerson) => {
    // Rebuild person with the same column names and the same rows, but another definition.
    const result = await compare(`
      PRAGMA foreign_keys = OFF;
      ALTER TABLE person RENAME TO person_old;
      ${createPerson};
      INSERT INTO person SELECT * FROM person_old;
      DROP TABLE person_old;
      CREATE INDEX ix_person_name ON person (name);
    `);
    expectTables(result, {});
    expect(result.schemaProblems).toEqual(['table person changed its definition']);
  });

  it.each([
    ['STRICT, WITHOUT ROWID', 'CREATE TABLE tag (k TEXT PRIMARY KEY, v INTEGER) STRICT, WITHOUT ROWID'],
    ['WITHOUT ROWID, STRICT', 'CREATE TABLE tag (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID, STRICT'],
    ['lower case', 'create table tag (k text primary key, v integer) without rowid'],
  ])('compares a WITHOUT ROWID table declared as %s', async (_label, create) => {
    const baselineSql = `${create}; INSERT INTO tag VALUES ('x', 1), ('y', 2);`;
    const unchanged = await compare('', [], baselineSql);
    expect(unchanged.schemaProblems).toEqual([]);
    expect(unchanged.tables).toEqual([{ table: 'tag', before: 2, after: 2, differing: 0, sampleIds: [] }]);
    const changed = await compare(`UPDATE tag SET v = 3 WHERE k = 'y'`, [], baselineSql);
    expect(changed.tables).toEqual([{ table: 'tag', before: 2, after: 2, differing: 1, sampleIds: ['y'] }]);
  });
});
