import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { json } from '../support/cli.js';
import { listDir, query } from '../support/fixtures.js';
import { project, THREE } from '../support/project.js';

// Issue 10.4: what Alembic users type (revision -m, stamp, history --verbose, revisions by
// name), golang-migrate's create flags (--seq, --digits), and .py files reported, not ignored.

describe('Alembic habits', () => {
  it('revision -m MSG writes the same files as create', () => {
    const p = project();
    const run = p.run('revision', '-m', 'Add tasks', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(json<{ version: number }>(run).version).toBe(1);
    expect(listDir(p.migrations)).toEqual(['000001_add_tasks.down.sql', '000001_add_tasks.md', '000001_add_tasks.up.sql']);
    expect(p.run('revision', '-m', 'code one', '--ext', 'ts').code).toBe(0);
    expect(listDir(p.migrations)).toContain('000002_code_one.ts');
    expect(p.run('revision').code).toBe(64);
  });

  it('create --seq --digits N, and the next number keeps the width', () => {
    const p = project();
    expect(p.run('create', '--seq', '--digits', '3', 'init').code).toBe(0);
    expect(p.run('create', 'second').code).toBe(0);
    expect(listDir(p.migrations)).toEqual(['001_init.down.sql', '001_init.md', '001_init.up.sql', '002_second.down.sql', '002_second.md', '002_second.up.sql']);
    expect(p.run('create', '--digits', 'x', 'third').code).toBe(64);
    expect(p.run('create', '--digits', '0', 'third').code).toBe(64);
  });

  it('upgrade and downgrade to a migration named by file stem or name', () => {
    const p = project(THREE);
    fs.writeFileSync(p.db, '');
    expect(p.run('upgrade', '000002_add_tasks', '--no-backup').code).toBe(0);
    expect(p.run('version').stdout.trim()).toBe('2 (add_tasks)');
    expect(p.run('upgrade', 'notes', '--no-backup').code).toBe(0);
    expect(p.run('version').stdout.trim()).toBe('3 (notes)');
    expect(p.run('downgrade', 'users', '--no-backup').code).toBe(0);
    expect(p.run('version').stdout.trim()).toBe('1 (users)');
    const unknown = p.run('upgrade', 'no_such_thing');
    expect(unknown.code).toBe(66);
    expect(unknown.stdout + unknown.stderr).toMatch(/no migration named "no_such_thing"/);
  });

  it('stamp V is force V, and takes head, base and names', () => {
    const p = project(THREE);
    fs.writeFileSync(p.db, '');
    expect(p.run('stamp', 'head').code).toBe(0);
    expect(p.run('version').stdout.trim()).toBe('3 (notes)');
    expect(p.run('stamp', 'add_tasks').code).toBe(0);
    expect(p.run('version').stdout.trim()).toBe('2 (add_tasks)');
    expect(p.run('stamp', 'base').code).toBe(0);
    expect(p.run('version').stdout.trim()).toBe('0 (nothing applied)');
    expect(p.run('stamp', '1').code).toBe(0);
    expect(query(p.db, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: 1, dirty: 0 }]);
    // Nothing ran: stamp records, it does not migrate.
    expect(query(p.db, `SELECT name FROM sqlite_master WHERE name = 'users'`)).toEqual([]);
  });

  it('history --verbose adds files, documents, transaction mode and logged checksums', () => {
    const p = project({ ...THREE, '000001_users.md': '# users\n', '000003_notes.up.sql': '-- dbshift:no-transaction\nCREATE TABLE notes (id INTEGER PRIMARY KEY);' });
    expect(p.run('up', '2', '--create', '--no-backup').code).toBe(0);
    const plain = p.run('history');
    const verbose = p.run('history', '--verbose');
    expect(verbose.code).toBe(0);
    expect(plain.stdout).not.toMatch(/file   000001_users.up.sql/);
    expect(verbose.stdout).toMatch(/file   000001_users\.up\.sql/);
    expect(verbose.stdout).toMatch(/doc    000001_users\.md/);
    expect(verbose.stdout).toMatch(/doc    \(none\)/);
    expect(verbose.stdout).toMatch(/no transaction \(dirty protocol\)/);
    expect(verbose.stdout).toMatch(/up    000002_add_tasks .* sha256 [0-9a-f]{64}/);
  });
});

describe('Python files in the migrations directory', () => {
  it('an Alembic project is refused (66), naming what it found', () => {
    const p = project({ 'env.py': 'from alembic import context\n', 'script.py.mako': '' });
    fs.mkdirSync(path.join(p.migrations, 'versions'));
    fs.writeFileSync(path.join(p.migrations, 'versions', 'ae1027a6acf_add_tasks.py'), 'revision = "ae1027a6acf"\n');
    fs.writeFileSync(p.db, '');
    for (const args of [['up'], ['validate'], ['lint']]) {
      const run = p.run(...args);
      expect(run.code, args.join(' ')).toBe(66);
      expect(run.stderr).toMatch(/Alembic project/);
      expect(run.stderr).toMatch(/versions\/ae1027a6acf_add_tasks\.py|env\.py/);
    }
  });

  it('a .py (or misnamed .sql) beside real migrations: lint names each, up and validate refuse (65) before anything runs', () => {
    const p = project({ ...THREE, '000004_backfill.py': 'print("hi")\n', '5_init.sql': 'SELECT 1;' });
    const lint = p.run('lint', '--json');
    expect(lint.code).toBe(65);
    const findings = json<{ findings: Array<{ file: string; rule: string }> }>(lint).findings.filter((f) => f.rule === 'unrecognized-file');
    expect(findings.map((f) => f.file)).toEqual(['000004_backfill.py', '5_init.sql']);
    const up = p.run('up', '--create', '--no-backup');
    expect(up.code).toBe(65);
    expect(up.stderr).toMatch(/000004_backfill\.py: a Python file/);
    expect(up.stderr).toMatch(/5_init\.sql: a numbered \.sql file .* no `-- migrate:up` line/);
    expect(fs.existsSync(p.db)).toBe(false);
    expect(p.run('validate').code).toBe(65);
  });
});
