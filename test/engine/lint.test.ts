import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMigrationDir } from '../../src/engine/discover.js';
import { lintMigrations, lintSqlite } from '../../src/engine/lint.js';
import { errorsOf, LINT_PROJECT_FILE } from '../../src/engine/lint-settings.js';
import { tempDir } from '../support/tmp.js';

// Each rule on a real migrations directory, with the file and line it must name.

/** Every migration gets a written document unless the test gives one (or `docs: false`): the document rules have their own tests. */
async function lint(files: Record<string, string>, options: { docs?: boolean } = {}) {
  const dir = tempDir();
  const all = { ...files };
  if (options.docs !== false) {
    for (const name of Object.keys(files)) {
      const stem = /^(\d+_[a-z0-9_]+)\.(up\.sql|ts)$/.exec(name)?.[1];
      if (stem && !(`${stem}.md` in all)) all[`${stem}.md`] = `# ${stem}\n\n## Overview\nA test migration.\n\n## Data-loss risk\nNone.\n`;
    }
  }
  for (const [name, content] of Object.entries(all)) fs.writeFileSync(path.join(dir, name), content);
  return lintMigrations(await loadMigrationDir(dir)).map((f) => `${f.file}:${f.line} ${f.rule}`);
}

const BASE = {
  '000001_base.up.sql': `CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\nCREATE INDEX ix_users_email ON users (email);\n`,
  '000001_base.down.sql': 'DROP TABLE users;',
};

describe('lint', () => {
  it('a clean migration has no findings', async () => {
    expect(await lint(BASE)).toEqual([]);
  });

  it.each([
    ['ALTER TABLE users ADD COLUMN handle TEXT UNIQUE;', 'add-column-unique'],
    ['ALTER TABLE users ADD COLUMN uid INTEGER PRIMARY KEY;', 'add-column-primary-key'],
    ['ALTER TABLE users ADD COLUMN created_at TEXT DEFAULT CURRENT_TIMESTAMP;', 'add-column-non-constant-default'],
    ["ALTER TABLE users ADD COLUMN created_at TEXT DEFAULT (datetime('now'));", 'add-column-non-constant-default'],
    ['ALTER TABLE users ADD COLUMN level INTEGER NOT NULL;', 'add-column-not-null-without-default'],
  ])('%s → %s', async (statement, rule) => {
    const findings = await lint({ ...BASE, '000002_change.up.sql': `-- change\n\n${statement}\n`, '000002_change.down.sql': '' });
    expect(findings).toContain(`000002_change.up.sql:3 ${rule}`);
  });

  it('a constant default, NOT NULL with a default and a quoted keyword are fine', async () => {
    const findings = await lint({
      ...BASE,
      '000002_ok.up.sql': `ALTER TABLE users ADD COLUMN level INTEGER NOT NULL DEFAULT 0;\nALTER TABLE users ADD COLUMN note TEXT DEFAULT 'UNIQUE PRIMARY KEY';\n`,
      '000002_ok.down.sql': '',
    });
    expect(findings).toEqual([]);
  });

  it('DROP COLUMN on an indexed column, and undocumented data loss', async () => {
    const findings = await lint({ ...BASE, '000002_drop.up.sql': 'ALTER TABLE users DROP COLUMN email;', '000002_drop.down.sql': '' });
    expect(findings).toEqual(['000002_drop.up.sql:1 drop-column-constrained', '000002_drop.up.sql:1 data-loss-undocumented']);
  });

  it('DROP TABLE is data loss unless the document names it under "Data-loss risk"', async () => {
    const migration = { '000002_drop.up.sql': 'DROP TABLE users;', '000002_drop.down.sql': BASE['000001_base.up.sql'] };
    expect(await lint({ ...BASE, ...migration })).toEqual(['000002_drop.up.sql:1 data-loss-undocumented']);
    const documented = { '000002_drop.md': '# 000002_drop\n\n## Data-loss risk\nAll rows of users are deleted.\n\n## Rollback plan\nRestore.\n' };
    expect(await lint({ ...BASE, ...migration, ...documented })).toEqual([]);
    const elsewhere = { '000002_drop.md': '# 000002_drop\n\n## Data-loss risk\nNone.\n\n## Overview\nDrops users.\n' };
    expect(await lint({ ...BASE, ...migration, ...elsewhere })).toEqual(['000002_drop.up.sql:1 data-loss-undocumented']);
  });

  it('a foreign key needs an ON DELETE action and an index', async () => {
    const findings = await lint({
      ...BASE,
      '000002_posts.up.sql': '\nCREATE TABLE posts (\n  id INTEGER PRIMARY KEY,\n  user_id INTEGER REFERENCES users (id)\n);\n',
      '000002_posts.down.sql': 'DROP TABLE posts;',
    });
    expect(findings).toEqual(['000002_posts.up.sql:2 foreign-key-without-on-delete', '000002_posts.up.sql:2 foreign-key-without-index']);
    const fixed = await lint({
      ...BASE,
      '000002_posts.up.sql': 'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id) ON DELETE CASCADE);\nCREATE INDEX ix_posts_user_id ON posts (user_id);\n',
      '000002_posts.down.sql': 'DROP TABLE posts;',
    });
    expect(fixed).toEqual([]);
  });

  it('a migration without a down file, and SQL SQLite rejects on the schema so far', async () => {
    const findings = await lint({ ...BASE, '000002_bad.up.sql': 'CREATE INDEX ix_nope ON missing_table (x);' });
    expect(findings).toEqual(['000002_bad.up.sql:1 missing-down', '000002_bad.up.sql:1 sql-error']);
  });

  it('trigger bodies with semicolons are one statement; lines are counted through comments and strings', async () => {
    const findings = await lint({
      ...BASE,
      '000002_trigger.up.sql': `/* a\n comment */\nCREATE TRIGGER t AFTER INSERT ON users BEGIN\n  UPDATE users SET email = 'a;b' WHERE id = NEW.id;\nEND;\nALTER TABLE users ADD COLUMN x INTEGER NOT NULL;\n`,
      '000002_trigger.down.sql': '',
    });
    expect(findings).toEqual(['000002_trigger.up.sql:6 add-column-not-null-without-default']);
  });

  it('down files are linted on the schema their up built: a syntax error, DROP TABLE … CASCADE, dropping an indexed column', async () => {
    const findings = await lint({
      ...BASE,
      '000002_tags.up.sql': 'CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT);\nCREATE INDEX ix_tags_label ON tags (label);\n',
      '000002_tags.down.sql': 'ALTER TABLE tags DROP COLUMN label;\nDROP TABLE tags CASCADE;\nDROPP TABLE tags;\n',
    });
    expect(findings).toEqual(['000002_tags.down.sql:1 drop-column-constrained', '000002_tags.down.sql:2 sql-error', '000002_tags.down.sql:3 sql-error']);
    // The next migration is linted on the schema after 000002's up, not after its down.
    const next = await lint({
      ...BASE,
      '000002_tags.up.sql': 'CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT);',
      '000002_tags.down.sql': 'DROP TABLE tags;',
      '000003_more.up.sql': 'ALTER TABLE tags ADD COLUMN colour TEXT;',
      '000003_more.down.sql': 'ALTER TABLE tags DROP COLUMN colour;',
    });
    expect(next).toEqual([]);
  });

  it('up judges the up files it is about to run, on the live schema; their down files are left to `dbshift lint`', async () => {
    const dir = tempDir();
    const files = {
      ...BASE,
      '000002_tags.up.sql': 'CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT);\nDROPP TABLE nothing;\n',
      '000002_tags.down.sql': 'DROPP TABLE tags;\n',
    };
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
    const set = await loadMigrationDir(dir);
    const live = ['CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)', 'CREATE INDEX ix_users_email ON users (email)'];
    const sqlErrors = (findings: Array<{ file: string; line: number; rule: string }>) => findings.filter((f) => f.rule === 'sql-error').map((f) => `${f.file}:${f.line}`);
    expect(sqlErrors(lintMigrations(set, new Set([2]), live))).toEqual(['000002_tags.up.sql:2']);
    expect(sqlErrors(lintMigrations(set))).toEqual(['000002_tags.up.sql:2', '000002_tags.down.sql:1']);
  });

  it('data-loss-undocumented matches whole identifiers and never counts the untouched template', async () => {
    const up = { ...BASE, '000002_drop.up.sql': 'ALTER TABLE users DROP COLUMN name;', '000002_drop.down.sql': 'ALTER TABLE users ADD COLUMN name TEXT;' };
    const base = { '000001_base.up.sql': 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT);', '000001_base.down.sql': 'DROP TABLE users;' };
    const template = '# 000002_drop\n\n## Overview\nDrops the name column.\n\n## Data-loss risk\nNone. (Name every table and column this migration drops or rewrites, and what is lost.)\n';
    expect(await lint({ ...up, ...base, '000002_drop.md': template })).toContain('000002_drop.up.sql:1 data-loss-undocumented');
    const substring = '# 000002_drop\n\n## Overview\nx\n\n## Data-loss risk\nWe rename nothing; the names stay.\n';
    expect(await lint({ ...up, ...base, '000002_drop.md': substring })).toContain('000002_drop.up.sql:1 data-loss-undocumented');
    const written = '# 000002_drop\n\n## Overview\nx\n\n## Data-loss risk\nusers.name is deleted for every row.\n';
    expect(await lint({ ...up, ...base, '000002_drop.md': written })).toEqual([]);
  });

  it.each([
    ['id INT PRIMARY KEY', true],
    ['id SERIAL PRIMARY KEY', true],
    ['id BIGINT PRIMARY KEY', true],
    ['id INTEGER PRIMARY KEY', false],
    ['id integer primary key', false],
    ['id TEXT PRIMARY KEY', false],
  ])('%s → primary-key-not-rowid: %s', async (column, flagged) => {
    const findings = await lint({ '000001_t.up.sql': `CREATE TABLE t (${column}, v TEXT);`, '000001_t.down.sql': 'DROP TABLE t;' });
    expect(findings).toEqual(flagged ? ['000001_t.up.sql:1 primary-key-not-rowid'] : []);
  });

  it('a foreign key to a table that does not exist', async () => {
    const findings = await lint({
      ...BASE,
      '000002_posts.up.sql': 'CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors (id) ON DELETE CASCADE);\nCREATE INDEX ix_posts_author_id ON posts (author_id);',
      '000002_posts.down.sql': 'DROP TABLE posts;',
    });
    expect(findings).toEqual(['000002_posts.up.sql:1 foreign-key-missing-parent']);
  });

  it('a missing, empty or untouched-template document', async () => {
    const files = { ...BASE, '000002_x.up.sql': 'CREATE TABLE x (id INTEGER PRIMARY KEY);', '000002_x.down.sql': 'DROP TABLE x;' };
    const missing = await lint({ ...files, '000001_base.md': '# written\n\n## Overview\nUsers.\n' }, { docs: false });
    expect(missing).toEqual(['000002_x.up.sql:1 doc-missing']);
    expect(await lint({ ...files, '000002_x.md': '  \n' })).toEqual(['000002_x.md:1 doc-empty']);
    const { docTemplate } = await import('../../src/engine/create.js');
    expect(await lint({ ...files, '000002_x.md': docTemplate('000002_x') })).toEqual(['000002_x.md:1 doc-template']);
  });
});

describe('lint as a team configures it', () => {
  const ADD_UNIQUE = { ...BASE, '000002_handle.up.sql': 'ALTER TABLE users ADD COLUMN handle TEXT UNIQUE;\n', '000002_handle.down.sql': 'SELECT 1;' };

  async function judged(files: Record<string, string>, settings?: unknown) {
    const dir = tempDir();
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
    for (const name of Object.keys(files)) {
      const stem = /^(\d+_[a-z0-9_]+)\.up\.sql$/.exec(name)?.[1];
      if (stem) fs.writeFileSync(path.join(dir, `${stem}.md`), `# ${stem}\n\n## Overview\nA test migration.\n\n## Data-loss risk\nNone.\n`);
    }
    if (settings !== undefined) fs.writeFileSync(path.join(dir, LINT_PROJECT_FILE), JSON.stringify(settings));
    return lintSqlite(await loadMigrationDir(dir));
  }
  const ids = (r: { findings: Array<{ file: string; line: number; rule: string; level?: string }> }) => r.findings.map((f) => `${f.file}:${f.line} ${f.rule}${f.level ? ` ${f.level}` : ''}`);

  it('-- dbshift:ignore RULE reason silences that rule in that file only, and says what it silenced', async () => {
    const result = await judged({
      ...ADD_UNIQUE,
      '000002_handle.up.sql': '-- dbshift:ignore add-column-unique, sql-error the app never writes handle before 000003 rebuilds the table\nALTER TABLE users ADD COLUMN handle TEXT UNIQUE;\n',
      '000003_nick.up.sql': 'ALTER TABLE users ADD COLUMN nick TEXT UNIQUE;\n',
      '000003_nick.down.sql': 'SELECT 1;',
    });
    expect(ids(result)).toEqual(['000003_nick.up.sql:1 add-column-unique']);
    expect(result.suppressed).toEqual([{ file: '000002_handle.up.sql', line: 1, rules: ['add-column-unique', 'sql-error'], reason: 'the app never writes handle before 000003 rebuilds the table', silenced: 1 }]);
  });

  it('an ignore without a reason, or naming no rule of the lint, silences nothing and is itself a finding', async () => {
    const result = await judged({ ...ADD_UNIQUE, '000002_handle.up.sql': '-- dbshift:ignore add-column-unique\n-- dbshift:ignore add-colum-unique typo in the id\nALTER TABLE users ADD COLUMN handle TEXT UNIQUE;\n' });
    expect(ids(result)).toEqual(['000002_handle.up.sql:1 ignore-without-reason', '000002_handle.up.sql:2 ignore-unknown-rule', '000002_handle.up.sql:3 add-column-unique']);
  });

  it('dbshift.lint.json turns a rule off or into a warning (which does not fail), and a wrong one is a configuration error', async () => {
    expect(ids(await judged(ADD_UNIQUE, { rules: { 'add-column-unique': 'warning' } }))).toEqual(['000002_handle.up.sql:1 add-column-unique warning']);
    expect(ids(await judged(ADD_UNIQUE, { rules: { 'add-column-unique': 'off' } }))).toEqual([]);
    expect(errorsOf((await judged(ADD_UNIQUE, { rules: { 'add-column-unique': 'warning' } })).findings)).toEqual([]);
    await expect(judged(ADD_UNIQUE, { rules: { 'add-column-unique': 'loud' } })).rejects.toThrow(/"error", "warning" or "off"/);
    await expect(judged(ADD_UNIQUE, { rules: { 'no-such-rule': 'off' } })).rejects.toThrow(/does not have/);
  });
});
