import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { json } from '../support/cli.js';
import { project } from '../support/project.js';

// Issue 10.9 through the CLI: what lint missed and then failed at run time.

interface LintJson {
  ok: boolean;
  findings: Array<{ file: string; line: number; rule: string; message: string; fix: string }>;
}

describe('dbshift lint', () => {
  it('flags a broken down file, a non-rowid primary key, a foreign key to nowhere and the untouched template', () => {
    const p = project();
    expect(p.run('create', 'accounts').code).toBe(0);
    p.write('000001_accounts.up.sql', 'CREATE TABLE accounts (id SERIAL PRIMARY KEY, owner_id INTEGER REFERENCES owners (id) ON DELETE CASCADE);\nCREATE INDEX ix_accounts_owner_id ON accounts (owner_id);\n');
    p.write('000001_accounts.down.sql', 'DROP TABLE accounts CASCADE;\n');
    const run = p.run('lint', '--json');
    expect(run.code).toBe(65);
    const findings = json<LintJson>(run).findings.map((f) => `${f.file}:${f.line} ${f.rule}`);
    expect(findings).toEqual([
      '000001_accounts.md:1 doc-template',
      '000001_accounts.up.sql:1 primary-key-not-rowid',
      '000001_accounts.up.sql:1 foreign-key-missing-parent',
      '000001_accounts.down.sql:1 sql-error',
    ]);
    for (const f of json<LintJson>(run).findings) expect(f.fix.length).toBeGreaterThan(0);

    // Written properly, lint passes, and up/down run as lint promised.
    fs.writeFileSync(path.join(p.migrations, '000001_accounts.md'), '# accounts\n\n## Overview\nAccounts of owners.\n\n## Data-loss risk\nOn down, accounts and its rows are deleted.\n');
    p.write('000001_accounts.up.sql', 'CREATE TABLE owners (id INTEGER PRIMARY KEY);\nCREATE TABLE accounts (id INTEGER PRIMARY KEY, owner_id INTEGER REFERENCES owners (id) ON DELETE CASCADE);\nCREATE INDEX ix_accounts_owner_id ON accounts (owner_id);\n');
    p.write('000001_accounts.down.sql', 'DROP TABLE accounts;\nDROP TABLE owners;\n');
    const clean = p.run('lint');
    expect(clean.code, clean.stdout).toBe(0);
    expect(p.run('up', '--create', '--no-backup').code).toBe(0);
    expect(p.run('down', '--all', '--no-backup').code).toBe(0);
  });
});

describe('dbshift lint in a CI', () => {
  const DOC = '# m\n\n## Overview\nA change.\n\n## Data-loss risk\nNone.\n';
  const FILES = {
    '000001_users.up.sql': 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n',
    '000001_users.down.sql': 'DROP TABLE users;\n',
    '000001_users.md': DOC,
    // Applied already, and unfixable (its checksum): only an ignore with its reason, or the project file, quiets it.
    '000002_nick.up.sql': 'ALTER TABLE users ADD COLUMN nick TEXT NOT NULL DEFAULT \'\';\nALTER TABLE users ADD COLUMN level INTEGER NOT NULL;\n',
    '000002_nick.down.sql': 'SELECT 1;\n',
    '000002_nick.md': DOC,
    '000003_tasks.up.sql': 'CREATE TABLE tasks (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));\n',
    '000003_tasks.down.sql': 'DROP TABLE tasks;\n',
    '000003_tasks.md': DOC,
  };

  it('findings on stdout (a report to redirect), warnings that do not fail, ignores shown with --verbose, --pending for what is not applied', () => {
    const p = project(FILES);
    const all = p.run('lint');
    expect(all.code).toBe(65);
    expect(all.stderr).toBe('');
    expect(all.stdout).toMatch(/^dbshift lint: 3 findings \(exit 65\)/);
    expect(all.stdout).toContain('000002_nick.up.sql:2  [add-column-not-null-without-default]');
    expect(all.stdout).toContain('000003_tasks.up.sql:1  [foreign-key-without-on-delete]');

    // 000002 is "applied": --pending judges only 000003 (applied by hand to version 2 first).
    p.write('000002_nick.up.sql', 'ALTER TABLE users ADD COLUMN nick TEXT NOT NULL DEFAULT \'\';\n');
    expect(p.run('up', '2', '--create', '--no-backup').code).toBe(0);
    p.write('000002_nick.up.sql', FILES['000002_nick.up.sql']);
    const pending = p.run('lint', '--pending', '--json');
    const found = json<LintJson & { judged: number[] }>(pending);
    expect(found.judged).toEqual([3]);
    expect(found.findings.map((f) => `${f.file}:${f.line} ${f.rule}`)).toEqual(['000003_tasks.up.sql:1 foreign-key-without-on-delete', '000003_tasks.up.sql:1 foreign-key-without-index']);
    expect(pending.code).toBe(65);

    // The team's choices: an ignore with its reason in the file, and a rule made a warning in the project file.
    p.write('000003_tasks.up.sql', `-- dbshift:ignore foreign-key-without-index tasks stays under 100 rows\n${FILES['000003_tasks.up.sql']}`);
    fs.writeFileSync(path.join(p.dir, 'dbshift.lint.json'), JSON.stringify({ rules: { 'foreign-key-without-on-delete': 'warning', 'add-column-not-null-without-default': 'off' } }));
    const configured = p.run('lint', '--verbose');
    expect(configured.code, configured.stdout).toBe(0);
    expect(configured.stdout).toMatch(/^dbshift lint: OK \(1 warnings\)/);
    expect(configured.stdout).toContain('000003_tasks.up.sql:2  [foreign-key-without-on-delete] (warning)');
    expect(configured.stdout).toContain('ignored 000003_tasks.up.sql:1  [foreign-key-without-index] 1 finding: tasks stays under 100 rows');
    expect(configured.stdout).toContain(`Settings: ${path.join(p.dir, 'dbshift.lint.json')}`);
  });
});
