import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { json } from '../support/cli.js';
import { query, sha256 } from '../support/fixtures.js';
import { project, THREE } from '../support/project.js';

// Issue 10.1: `upgrade` never goes down, `downgrade` never goes up, and every path that would
// revert all applied migrations needs the explicit --all (or `downgrade base`).

interface ErrorJson {
  ok: boolean;
  steps: Array<{ version: number; direction: string; status: string }>;
  error?: { code: string; exitCode: number; message: string; dataState?: string };
}

describe('upgrade and downgrade keep their direction', () => {
  it('upgrade 1 at version 3 refuses with 64, names both versions, drops nothing; --dry-run shows the same refusal', () => {
    const p = project(THREE);
    expect(p.run('up', '--create', '--no-backup').code).toBe(0);
    // Rows in a table the down migrations would drop.
    const db = new Database(p.db);
    db.exec("INSERT INTO notes (body) VALUES ('keep me'), ('and me')");
    db.close();
    const before = sha256(p.db);

    const refused = p.run('upgrade', '1', '--json');
    expect(refused.code).toBe(64);
    const error = json<ErrorJson>(refused).error!;
    expect(error.code).toBe('upgrade-wrong-direction');
    expect(error.message).toMatch(/version 3 \(notes\)/);
    expect(error.message).toMatch(/target 1 \(users\)/);
    expect(error.dataState).toBe('Nothing was changed.');
    expect(sha256(p.db)).toBe(before);
    expect(query(p.db, 'SELECT count(*) AS n FROM notes')).toEqual([{ n: 2 }]);

    const dry = p.run('upgrade', '1', '--dry-run');
    expect(dry.code).toBe(64);
    expect(dry.stdout + dry.stderr).toMatch(/upgrade never goes down.*version 3 \(notes\).*target 1 \(users\)/s);
    expect(sha256(p.db)).toBe(before);
    expect(p.run('version').stdout.trim()).toBe('3 (notes)');
  });

  it('downgrade 3 at version 1 refuses with 64 and applies nothing', () => {
    const p = project(THREE);
    expect(p.run('up', '1', '--create').code).toBe(0);
    const refused = p.run('downgrade', '3', '--json');
    expect(refused.code).toBe(64);
    expect(json<ErrorJson>(refused).error).toMatchObject({ code: 'downgrade-wrong-direction', message: expect.stringMatching(/version 1 \(users\).*target 3 \(notes\)/) });
    expect(p.run('downgrade', '3', '--dry-run').code).toBe(64);
    expect(p.run('version').stdout.trim()).toBe('1 (users)');
    expect(query(p.db, `SELECT name FROM sqlite_master WHERE name IN ('tasks', 'notes')`)).toEqual([]);
  });

  it('goto 0 and downgrade -N past zero need --all; downgrade base is the explicit word', () => {
    const p = project(THREE);
    expect(p.run('up', '--create', '--no-backup').code).toBe(0);
    for (const args of [['goto', '0'], ['downgrade', '-3'], ['downgrade', '-7'], ['downgrade', '0']]) {
      const refused = p.run(...args, '--json');
      expect(refused.code, args.join(' ')).toBe(64);
      expect(json<ErrorJson>(refused).error?.code).toBe('down-to-zero');
      expect(p.run(...args, '--dry-run').code, `${args.join(' ')} --dry-run`).toBe(64);
      expect(p.run('version').stdout.trim()).toBe('3 (notes)');
    }
    expect(p.run('downgrade', '-2').code).toBe(0);
    expect(p.run('version').stdout.trim()).toBe('1 (users)');
    expect(p.run('goto', '0', '--all', '--no-backup').code).toBe(0);
    expect(p.run('version').stdout.trim()).toBe('0 (nothing applied)');
    expect(p.run('up', '--no-backup').code).toBe(0);
    expect(p.run('downgrade', '-3', '--all', '--no-backup').code).toBe(0);
    expect(p.run('version').stdout.trim()).toBe('0 (nothing applied)');
    expect(p.run('up', '--no-backup').code).toBe(0);
    expect(p.run('downgrade', 'base', '--no-backup').code).toBe(0);
    expect(p.run('version').stdout.trim()).toBe('0 (nothing applied)');
  });
});
