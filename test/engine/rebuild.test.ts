import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { rebuildTable } from '../../src/engine/rebuild.js';
import type { Db } from '../../src/sqlite/open.js';

// The 12-step rebuild on real databases: what drizzle-kit, knex and Atlas have each lost here
// (cascading child rows, triggers, views, AUTOINCREMENT high-water marks) must survive.

function library(): Db {
  const db = new Database(':memory:');
  db.exec(`
    CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, email TEXT);
    CREATE INDEX ix_authors_name ON authors (name);
    CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors (id) ON DELETE CASCADE, title TEXT);
    CREATE INDEX ix_books_author_id ON books (author_id);
    CREATE TABLE audit (what TEXT);
    CREATE TRIGGER authors_audit AFTER UPDATE ON authors BEGIN INSERT INTO audit VALUES ('author ' || NEW.id); END;
    CREATE VIEW author_books AS SELECT a.name, b.title FROM authors a JOIN books b ON b.author_id = a.id;
    INSERT INTO authors (name, email) VALUES ('Ada', NULL), ('Grace', 'grace@example.org'), ('Temp', NULL);
    DELETE FROM authors WHERE name = 'Temp';
    INSERT INTO books (author_id, title) VALUES (1, 'Notes'), (1, 'Engines'), (2, 'Compilers');
  `);
  return db;
}

/** What the engine does around a migration: foreign keys off before BEGIN, checked before COMMIT. */
function inMigration(db: Db, fn: () => void): void {
  db.pragma('foreign_keys = OFF');
  db.exec('BEGIN');
  try {
    fn();
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}

const EMAIL_REQUIRED = {
  createSql: 'CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE)',
  columns: { email: "coalesce(email, 'author-' || id || '@example.invalid')" },
};

describe('rebuildTable', () => {
  it('keeps the cascading child rows of a rebuilt parent, and its values', () => {
    const db = library();
    inMigration(db, () => rebuildTable(db, 'authors', EMAIL_REQUIRED));
    expect(db.prepare('SELECT count(*) AS n FROM books').get()).toEqual({ n: 3 });
    expect(db.prepare('SELECT id, name, email FROM authors ORDER BY id').all()).toEqual([
      { id: 1, name: 'Ada', email: 'author-1@example.invalid' },
      { id: 2, name: 'Grace', email: 'grace@example.org' },
    ]);
    // The cascade still works afterwards, now that foreign keys are back on.
    db.pragma('foreign_keys = ON');
    db.exec('DELETE FROM authors WHERE id = 1');
    expect(db.prepare('SELECT count(*) AS n FROM books').get()).toEqual({ n: 1 });
  });

  it('brings back indexes and triggers, keeps views working, and applies the new constraint', () => {
    const db = library();
    inMigration(db, () => rebuildTable(db, 'authors', EMAIL_REQUIRED));
    const names = (db.prepare(`SELECT type || ' ' || name AS o FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1`).all() as Array<{ o: string }>).map((r) => r.o);
    expect(names).toEqual(['index ix_authors_name', 'index ix_books_author_id', 'table audit', 'table authors', 'table books', 'trigger authors_audit', 'view author_books']);
    expect(db.prepare('SELECT count(*) AS n FROM author_books').get()).toEqual({ n: 3 });
    db.exec(`UPDATE authors SET name = 'Ada L.' WHERE id = 1`);
    expect(db.prepare('SELECT what FROM audit').all()).toEqual([{ what: 'author 1' }]);
    expect(() => db.exec(`INSERT INTO authors (name, email) VALUES ('X', 'grace@example.org')`)).toThrow(/UNIQUE/);
  });

  it('keeps the AUTOINCREMENT high-water mark, so deleted ids are never reused', () => {
    const db = library();
    inMigration(db, () => rebuildTable(db, 'authors', EMAIL_REQUIRED));
    db.exec(`INSERT INTO authors (name, email) VALUES ('New', 'new@example.org')`);
    expect(db.prepare(`SELECT id FROM authors WHERE name = 'New'`).get()).toEqual({ id: 4 });
  });

  it('refuses to run with foreign keys on (DROP TABLE would cascade-delete the children)', () => {
    const db = library();
    db.pragma('foreign_keys = ON');
    db.exec('BEGIN');
    expect(() => rebuildTable(db, 'authors', EMAIL_REQUIRED)).toThrow(/foreign keys switched off/);
    db.exec('ROLLBACK');
    expect(db.prepare('SELECT count(*) AS n FROM books').get()).toEqual({ n: 3 });
  });

  it('names an index that no longer fits, and rolls back to the old table', () => {
    const db = library();
    expect(() => inMigration(db, () => rebuildTable(db, 'authors', { createSql: 'CREATE TABLE authors (id INTEGER PRIMARY KEY, email TEXT)', dropColumns: ['name'] }))).toThrow(
      /index ix_authors_name does not fit/,
    );
    expect(db.prepare('SELECT count(*) AS n FROM authors').get()).toEqual({ n: 2 });
  });

  it('refuses a createSql for another table', () => {
    const db = library();
    expect(() => inMigration(db, () => rebuildTable(db, 'authors', { createSql: 'CREATE TABLE writers (id INTEGER PRIMARY KEY)' }))).toThrow(/must be a CREATE TABLE authors/);
  });

  it('counts the new table itself: duplicates that ON CONFLICT REPLACE would merge are refused, nothing lost', () => {
    const db = new Database(':memory:');
    db.exec(`CREATE TABLE tags (id INTEGER PRIMARY KEY, tag TEXT); INSERT INTO tags (tag) VALUES ('a'), ('b'), ('a');`);
    expect(() => inMigration(db, () => rebuildTable(db, 'tags', { createSql: 'CREATE TABLE tags (id INTEGER PRIMARY KEY, tag TEXT UNIQUE ON CONFLICT REPLACE)' }))).toThrow(
      /would keep 2 of 3 rows/,
    );
    expect(db.prepare('SELECT count(*) AS n FROM tags').get()).toEqual({ n: 3 });
  });

  it('keeps the values of a generated column that becomes a plain one, and lets a new generated column compute its own', () => {
    const db = new Database(':memory:');
    db.exec(`CREATE TABLE prices (id INTEGER PRIMARY KEY, net INTEGER, gross INTEGER AS (net * 2) STORED, half AS (net / 2));
             INSERT INTO prices (net) VALUES (10), (20);`);
    inMigration(db, () => rebuildTable(db, 'prices', { createSql: 'CREATE TABLE prices (id INTEGER PRIMARY KEY, net INTEGER, gross INTEGER, half AS (net / 2) VIRTUAL)' }));
    expect(db.prepare('SELECT net, gross, half FROM prices ORDER BY id').all()).toEqual([
      { net: 10, gross: 20, half: 5 },
      { net: 20, gross: 40, half: 10 },
    ]);
    expect(() => inMigration(db, () => rebuildTable(db, 'prices', { createSql: 'CREATE TABLE prices (id INTEGER PRIMARY KEY, net INTEGER, gross INTEGER, half AS (net / 2))', columns: { half: 'net' } }))).toThrow(
      /generates itself/,
    );
  });

  it('matches names the way SQLite does: a trigger declared ON authors belongs to table Authors and survives', () => {
    const db = new Database(':memory:');
    db.exec(`CREATE TABLE Authors (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE audit (what TEXT);
             CREATE TRIGGER authors_audit AFTER INSERT ON authors BEGIN INSERT INTO audit VALUES (NEW.name); END;
             INSERT INTO Authors (name) VALUES ('Ada');`);
    inMigration(db, () => rebuildTable(db, 'authors', { createSql: 'CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL)' }));
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger'`).all()).toEqual([{ name: 'authors_audit' }]);
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'Authors'`).all()).toEqual([{ name: 'Authors' }]);
    db.exec(`INSERT INTO Authors (name) VALUES ('Grace')`);
    expect(db.prepare('SELECT what FROM audit').all()).toEqual([{ what: 'Ada' }, { what: 'Grace' }]);
  });

  it('refuses a trigger that no longer compiles (it names a dropped column), as it refuses views', () => {
    const db = library();
    db.exec(`CREATE TRIGGER authors_email AFTER INSERT ON authors BEGIN INSERT INTO audit VALUES (NEW.email); END;`);
    expect(() => inMigration(db, () => rebuildTable(db, 'authors', { createSql: 'CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL)', dropColumns: ['email'] }))).toThrow(
      /trigger authors_email: no such column: NEW.email/,
    );
    // Rolled back: the old table and its trigger are as they were, and inserts still work.
    db.exec(`INSERT INTO authors (name, email) VALUES ('Linus', 'l@example.org')`);
    expect(db.prepare('SELECT what FROM audit').all()).toEqual([{ what: 'l@example.org' }]);
  });

  it('a view broken before the rebuild cannot hide a trigger the rebuild breaks', () => {
    const db = library();
    db.exec(`CREATE TABLE old_stuff (x); CREATE VIEW aaa_old AS SELECT x FROM old_stuff; DROP TABLE old_stuff;`);
    db.exec(`CREATE TRIGGER books_email AFTER INSERT ON books BEGIN INSERT INTO audit SELECT email FROM authors WHERE id = NEW.author_id; END;`);
    expect(() => inMigration(db, () => rebuildTable(db, 'authors', { createSql: 'CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL)', dropColumns: ['email'] }))).toThrow(
      /trigger books_email/,
    );
  });

  it('refuses to leave a column\'s values behind: a rename needs its mapping, a drop must be said', () => {
    const db = library();
    const renamed = { createSql: 'CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, e_mail TEXT)' };
    expect(() => inMigration(db, () => rebuildTable(db, 'authors', renamed))).toThrow(/column email holds values and the new table has no column for them/);
    inMigration(db, () => rebuildTable(db, 'authors', { ...renamed, columns: { e_mail: 'email' } }));
    expect(db.prepare('SELECT e_mail FROM authors ORDER BY id').all()).toEqual([{ e_mail: null }, { e_mail: 'grace@example.org' }]);
    inMigration(db, () => rebuildTable(db, 'authors', { createSql: 'CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL)', dropColumns: ['e_mail'] }));
    expect(db.prepare('SELECT count(*) AS n FROM authors').get()).toEqual({ n: 2 });
  });
});
