import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runVersions } from '../../src/engine/versions.js';
import { resolvePgTarget } from '../../src/engine/drivers/postgres/connection.js';
import { restoreDatabase } from '../../src/engine/drivers/postgres/backup.js';
import { freshDatabase, migrationsFor, openDriver, PG_FIXTURES, query, writeMigrations } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';

// pg_dump -Fc before up, checksummed and private; restore into a fresh database gives every
// table the same content (per-table checksums), and refuses a non-empty one without --clean.

/** md5 of every row of every user table, in a stable order. */
async function tableChecksums(url: string): Promise<Record<string, string>> {
  const tables = await query<{ t: string }>(url, `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
  const sums: Record<string, string> = {};
  for (const { t } of tables) {
    const [row] = await query<{ sum: string | null; n: string }>(url, `SELECT md5(string_agg(x::text, E'\\n' ORDER BY x::text)) AS sum, count(*) AS n FROM "${t}" x`);
    sums[t] = `${row!.n}:${row!.sum ?? 'empty'}`;
  }
  return sums;
}

describe('backup and restore', () => {
  it('backup → up → restore into a fresh database: every table identical; non-empty target refused without --clean', async () => {
    const db = await freshDatabase();
    const dir = tempDir();
    for (const f of fs.readdirSync(path.join(PG_FIXTURES, 'seed-004'))) fs.copyFileSync(path.join(PG_FIXTURES, 'seed-004', f), path.join(dir, f));
    const backups = path.join(tempDir(), 'backups');
    const driver = await openDriver(db.url);
    const first = await runVersions(driver, await migrationsFor(driver, dir), { kind: 'up' }, 'up', { backupDir: backups, backup: false });
    expect(first.error).toBeUndefined();
    await query(db.url, `INSERT INTO codes (name, type, source, language, project_uuid) SELECT 'c' || i, 'flow', 'print(' || i || ')', 'python', 'p' || (i % 7) FROM generate_series(1, 500) i`);
    await query(db.url, `INSERT INTO coderuns (code_id, status, extra, params) SELECT id, 'completed', jsonb_build_object('status_code', 200), '{"a": [1, 2]}' FROM codes`);
    await query(db.url, `INSERT INTO projects (uuid, name, authorizations) VALUES ('p1', 'Ω project', '[{"email": "x@y", "role": 3}]')`);
    const atBackup = await tableChecksums(db.url);

    writeMigrations(dir, { '000006_drop_runs.up.sql': '-- dbshift:deletes-rows coderuns\nDELETE FROM coderuns;\nALTER TABLE codes DROP COLUMN url;\n', '000006_drop_runs.down.sql': 'ALTER TABLE codes ADD COLUMN url varchar(500);\n' });
    const now = new Date('2026-11-29T02:03:04Z');
    const second = await runVersions(driver, await migrationsFor(driver, dir), { kind: 'up' }, 'up', { backupDir: backups, now: () => now });
    expect(second.error).toBeUndefined();
    expect(second.counts.coderuns).toEqual({ before: 500, after: 0 });
    // DROP COLUMN loses no rows and writes none: the table is not counted.
    expect(second.counts.codes).toBeUndefined();
    const backup = second.backup!;
    expect(path.basename(backup.path)).toBe(`${db.name}_backup_20261129_020304.dump`);
    expect(fs.statSync(backup.path).mode & 0o777).toBe(0o600);
    expect(execFileSync('sha256sum', ['-c', `${path.basename(backup.path)}.sha256`], { cwd: backups, encoding: 'utf8' })).toMatch(/: OK/);
    expect(fs.readFileSync(backup.path).subarray(0, 5).toString()).toBe('PGDMP');
    expect(JSON.stringify(second)).not.toContain('test-pw');

    const fresh = await freshDatabase('restored');
    const target = resolvePgTarget(fresh.url, {});
    const restored = await restoreDatabase(backup.path, target);
    expect(restored.command).toMatch(/^pg_restore --single-transaction --exit-on-error --dbname='postgres:\/\/dbshift:\*\*\*\*@/);
    expect(restored.command).not.toContain('test-pw');
    expect(await tableChecksums(fresh.url)).toEqual(atBackup);
    expect(await query(fresh.url, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: '5', dirty: false }]);

    // Into a database that has tables: refused, unless --clean.
    await expect(restoreDatabase(backup.path, resolvePgTarget(db.url, {}))).rejects.toMatchObject({ exitCode: 73, code: 'target-not-empty' });
    await restoreDatabase(backup.path, resolvePgTarget(db.url, {}), { clean: true });
    expect(await tableChecksums(db.url)).toEqual(atBackup);
  });

  it('a damaged backup is refused before anything is restored', async () => {
    const db = await freshDatabase();
    const driver = await openDriver(db.url);
    await query(db.url, 'CREATE TABLE t (id int); INSERT INTO t VALUES (1)');
    const backup = await driver.backup(tempDir(), new Date());
    fs.appendFileSync(backup.path, 'x');
    const fresh = await freshDatabase('restored');
    await expect(restoreDatabase(backup.path, resolvePgTarget(fresh.url, {}))).rejects.toMatchObject({ exitCode: 65, code: 'checksum-mismatch' });
    expect(await query(fresh.url, `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).toEqual([{ n: 0 }]);
  });

  it('without a pg_dump on PATH: refuses (78), naming the package and --no-backup, before changing anything', async () => {
    const db = await freshDatabase();
    const dir = writeMigrations(tempDir(), { '000001_t.up.sql': 'CREATE TABLE t (id int);' });
    const driver = await openDriver(db.url);
    const saved = process.env.PATH;
    process.env.PATH = tempDir();
    try {
      const result = await runVersions(driver, await migrationsFor(driver, dir), { kind: 'up' }, 'up', { backupDir: tempDir() });
      expect(result.error?.exitCode).toBe(78);
      expect(result.error?.message).toMatch(/pg_dump is not on PATH/);
      expect(result.error?.hint).toMatch(/apt-get install postgresql-client-\d+.*--no-backup/);
      expect(result.after).toEqual({ version: 0, dirty: false });
    } finally {
      process.env.PATH = saved;
    }
  });
});

