import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshift, dbshiftAsync } from '../support/cli.js';
import { collect, waitUntilStopped } from '../support/process.js';
import { tempDir } from '../support/tmp.js';

// --wait on SQLite: a second run queues behind the first one's lock instead of exiting 75
// (PostgreSQL's --wait is tested in test/pg/).

describe('up --wait', () => {
  it('waits for the run that holds the lock, then finds nothing left to do', async () => {
    const dir = tempDir();
    const migrations = path.join(dir, 'migrations');
    fs.mkdirSync(migrations);
    fs.writeFileSync(path.join(migrations, '000001_a.up.sql'), 'CREATE TABLE a (id INTEGER);');
    fs.writeFileSync(path.join(migrations, '000001_a.down.sql'), 'DROP TABLE a;');
    const env = { DATABASE: 'app.db', MIGRATIONS_DIR: 'migrations', BACKUP_DIR: 'backups' };
    expect(dbshift(['up', '--create', '--no-backup'], { cwd: dir, env }).code).toBe(0);
    fs.writeFileSync(path.join(migrations, '000002_b.up.sql'), 'CREATE TABLE b (id INTEGER);');
    fs.writeFileSync(path.join(migrations, '000002_b.down.sql'), 'DROP TABLE b;');

    // The first run stops (SIGSTOP) while it holds the lock, taking its backup.
    const first = dbshiftAsync(['up', '--json'], { cwd: dir, env: { ...env, NODE_ENV: 'test', DBSHIFT_FAULT: 'pause@engine-backup-pages' } });
    const firstDone = collect(first);
    await waitUntilStopped(first.pid!);
    expect(dbshift(['up', '--no-backup'], { cwd: dir, env }).code).toBe(75);
    const waiter = dbshiftAsync(['up', '--no-backup', '--json', '--wait', '60'], { cwd: dir, env });
    const waiterDone = collect(waiter);
    await new Promise((r) => setTimeout(r, 1500));
    expect(waiter.exitCode).toBeNull();
    first.kill('SIGCONT');
    expect((await firstDone).code).toBe(0);
    const waited = await waiterDone;
    expect(waited.code, waited.stderr).toBe(0);
    expect(JSON.parse(waited.stdout).notices).toContain('No change: the database is at version 2.');
  });
});
