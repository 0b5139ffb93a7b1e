import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshift, json } from '../support/cli.js';
import { query } from '../support/fixtures.js';
import { tempDir } from '../support/tmp.js';

// A golang-migrate user swaps the binary name and keeps the command line (issue 10.3).

describe('golang-migrate command lines', () => {
  it('create -ext sql -dir DIR, then -path DIR -database DB up / version / down -all, options before or after the command', () => {
    const dir = tempDir();
    const created = dbshift(['create', '-ext', 'sql', '-dir', './migrations', 'add_table'], { cwd: dir });
    expect(created.code, created.stderr).toBe(0);
    expect(fs.readdirSync(path.join(dir, 'migrations')).sort()).toEqual(['000001_add_table.down.sql', '000001_add_table.md', '000001_add_table.up.sql']);
    fs.writeFileSync(path.join(dir, 'migrations', '000001_add_table.up.sql'), 'CREATE TABLE t (id INTEGER PRIMARY KEY);\n');
    fs.writeFileSync(path.join(dir, 'migrations', '000001_add_table.down.sql'), 'DROP TABLE t;\n');

    const up = dbshift(['-path', './migrations', '-database', 'app.db', 'up', '--create'], { cwd: dir });
    expect(up.code, up.stderr).toBe(0);
    expect(query(path.join(dir, 'app.db'), 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: 1, dirty: 0 }]);

    const version = json<{ command: string; current: { version: number } }>(dbshift(['-source', 'file://./migrations', '-database=app.db', 'version', '--json'], { cwd: dir }));
    expect([version.command, version.current.version]).toEqual(['version', 1]);

    const down = dbshift(['down', '-all', '-path', './migrations', '-database', 'app.db'], { cwd: dir });
    expect(down.code, down.stderr).toBe(0);
    expect(query(path.join(dir, 'app.db'), "SELECT name FROM sqlite_master WHERE name = 't'")).toEqual([]);
  });

  it('a -source that is not a directory is a usage error (64), also as JSON', () => {
    const dir = tempDir();
    const run = dbshift(['-source', 'github://owner/repo', '-database', 'app.db', 'up', '--json'], { cwd: dir });
    expect(run.code).toBe(64);
    expect(json<{ command: string; error: { code: string } }>(run)).toMatchObject({ command: 'up', error: { code: 'unsupported-source' } });
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
