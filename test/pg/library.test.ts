import { spawnSync } from 'node:child_process';
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
});
