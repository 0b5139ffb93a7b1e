import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { freshDatabase, PG_FIXTURES, query } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';

// The library on PostgreSQL: migrateToLatest with a postgres:// database runs through the
// driver, as the CLI does; the call runs in a process of its own, from dist/.

function call(fn: string, options: Record<string, unknown>) {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'test/support/library.mjs'), fn, JSON.stringify(options)], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as { result: Record<string, unknown> & { error?: { code: string } }; events: Array<{ step: string; phase: string; label?: string }> };
}

describe('the library on PostgreSQL', () => {
  it('migrateToLatest applies seed 004 through the driver, with the same progress events; the second call has nothing to do', async () => {
    const db = await freshDatabase();
    const work = tempDir();
    fs.cpSync(path.join(PG_FIXTURES, 'seed-004'), path.join(work, 'migrations'), { recursive: true });
    const options = { cwd: work, database: db.url, dir: 'migrations', backupDir: 'backups' };

    const first = call('migrateToLatest', options);
    expect(first.result).toMatchObject({ ok: true, command: 'up', status: 'applied', after: { version: 5, dirty: false }, backup: { restoreCommand: expect.stringContaining('pg_restore') } });
    expect(first.events.filter((e) => e.step === 'migration' && e.phase === 'end').map((e) => e.label)).toEqual([
      '000001_create_codes_table',
      '000002_create_codelibs_table',
      '000003_create_coderuns_table',
      '000004_create_user_permissions_table',
      '000005_create_projects_table',
    ]);
    expect(await query(db.url, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: '5', dirty: false }]);

    expect(call('migrateToLatest', options).result).toMatchObject({ ok: true, status: 'nothing-to-do', after: { version: 5 } });
    expect(call('status', options).result).toMatchObject({ ok: true, command: 'version', status: 'clean', current: { version: 5 } });
    expect(call('up', { ...options, set: 'health-records' }).result.error).toMatchObject({ code: 'set-not-for-postgres' });
  });

  it('backups lists the pg_dump archive beside SQLite backups, and restore brings it back into a new database through the same call', async () => {
    const db = await freshDatabase();
    const work = tempDir();
    fs.cpSync(path.join(PG_FIXTURES, 'seed-004'), path.join(work, 'migrations'), { recursive: true });
    const options = { cwd: work, database: db.url, dir: 'migrations', backupDir: 'backups' };
    expect(call('up', { ...options, backup: false }).result).toMatchObject({ ok: true, after: { version: 5 } });
    await query(db.url, `INSERT INTO codes (name, type, source, language, project_uuid) VALUES ('hello', 'flow', 'print(1)', 'python', 'p1')`);
    const down = call('down', options).result as { ok: boolean; backup: { path: string } };
    expect(down.ok).toBe(true);
    // A SQLite database's backup in the same directory: one listing, both formats.
    new Database(path.join(work, 'codes.db')).exec('CREATE TABLE t (x)').close();
    const sqliteBackup = call('backup', { cwd: work, source: 'codes.db', backupDir: 'backups' }).result as { ok: boolean; backup: { path: string } };
    expect(sqliteBackup.ok).toBe(true);

    const listed = call('backups', { cwd: work, backupDir: 'backups' }).result as { ok: boolean; backups: Array<{ format: string; path: string; checksum: string }> };
    expect(listed.ok).toBe(true);
    expect(listed.backups.map((b) => [b.format, b.path, b.checksum]).sort()).toEqual([
      ['pg_dump', down.backup.path, 'ok'],
      ['sqlite', sqliteBackup.backup.path, 'ok'],
    ]);

    const target = await freshDatabase('restored');
    const restored = call('restore', { cwd: work, backup: down.backup.path, to: target.url }).result as { ok: boolean; status: string; target: string; notices: string[] };
    expect(restored).toMatchObject({ ok: true, status: 'restored' });
    expect(restored.target).not.toContain(decodeURIComponent(new URL(target.url).password));
    expect(restored.notices).toEqual([expect.stringMatching(/^By hand: pg_restore --single-transaction/)]);
    expect(await query(target.url, 'SELECT name FROM codes')).toEqual([{ name: 'hello' }]);
    expect(await query(target.url, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: '5', dirty: false }]);
    // Restoring over a database that is not empty needs clean: true; it is refused otherwise, changing nothing.
    const again = call('restore', { cwd: work, backup: down.backup.path, to: target.url }).result as { ok: boolean; error: { code: string; exitCode: number } };
    expect(again.error).toMatchObject({ code: 'target-not-empty', exitCode: 73 });
    expect(call('restore', { cwd: work, backup: down.backup.path, to: target.url, clean: true }).result).toMatchObject({ ok: true, status: 'restored' });
  });
});
