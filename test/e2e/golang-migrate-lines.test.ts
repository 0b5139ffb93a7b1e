import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshift } from '../support/cli.js';
import { query } from '../support/fixtures.js';
import { tempDir } from '../support/tmp.js';

// Issue 10.3: a seed-004 user swaps the binary name and keeps their scripts, word for word.
describe('golang-migrate command lines, as written in the issue', () => {
  it('create -ext sql -dir ./migrations -seq add_table, then -path ./migrations -database sqlite3://app.db up', () => {
    const dir = tempDir();
    const run = (...args: string[]) => dbshift(args, { cwd: dir, env: { BACKUP_DIR: 'backups' } });
    const created = run('create', '-ext', 'sql', '-dir', './migrations', '-seq', 'add_table');
    expect(created.code, created.stderr).toBe(0);
    const up = path.join(dir, 'migrations', '000001_add_table.up.sql');
    fs.writeFileSync(up, 'CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\n');
    fs.writeFileSync(path.join(dir, 'migrations', '000001_add_table.down.sql'), 'DROP TABLE tasks;\n');
    fs.writeFileSync(path.join(dir, 'app.db'), '');
    const applied = run('-path', './migrations', '-database', 'sqlite3://app.db', 'up');
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    expect(query(path.join(dir, 'app.db'), 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: 1, dirty: 0 }]);
    // No directory named after the URL scheme.
    expect(fs.existsSync(path.join(dir, 'sqlite3:'))).toBe(false);
    expect(run('-path', './migrations', '-database', 'sqlite3://app.db', 'version').stdout.trim()).toBe('1 (add_table)');
  });
});
