import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshiftAsync } from '../support/cli.js';
import { makeSample, modes, workspace } from '../support/fixtures.js';
import { collect, waitUntilStopped } from '../support/process.js';

// Files are checked while they exist: paused mid-run, SQLite's own -journal/-wal/-shm and the
// work, partial and lock files stand in the directories.

describe('every file dbshift (or SQLite on its behalf) creates is 0600 under umask 022', () => {
  it.each(['snapshot-bytes', 'transform-backfill', 'verify-rows', 'publish-after-rename'])('paused at %s', async (point) => {
    const previous = process.umask(0o022);
    try {
      const ws = workspace({ withSample: false });
      // A WAL source, so that SQLite makes -wal/-shm files beside the files it opens.
      const source = path.join(ws.dir, 'prod', 'health_records.db');
      makeSample(ws, source, { reports: 300 });
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(source);
      db.pragma('journal_mode = WAL');
      db.close();

      const child = dbshiftAsync(['migrate', '--json'], { cwd: ws.dir, env: { ...ws.env, SOURCE_DB: source, INSTANCE_DIR: ws.instance, BACKUP_DIR: ws.backups, DBSHIFT_FAULT: `pause@${point}` } });
      const finished = collect(child);
      await waitUntilStopped(child.pid!);
      const seen = { ...modes(ws.instance), ...(fs.existsSync(ws.backups) ? modes(ws.backups) : {}) };
      process.kill(child.pid!, 'SIGCONT');
      expect((await finished).code).toBe(0);
      expect(Object.keys(seen).length).toBeGreaterThan(0);
      for (const [file, mode] of Object.entries(seen)) expect([file, mode.toString(8)]).toEqual([file, '600']);
      for (const dir of [ws.instance, ws.backups]) expect((fs.statSync(dir).mode & 0o777).toString(8)).toBe('700');
    } finally {
      process.umask(previous);
    }
  });
});
