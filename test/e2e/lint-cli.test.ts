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
