import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMigrationDir } from '../../src/engine/discover.js';
import { lintMigrations } from '../../src/engine/lint.js';
import { tempDir } from '../support/tmp.js';

// Each rule on a real migrations directory, with the file and line it must name.

async function lint(files: Record<string, string>) {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
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
});
