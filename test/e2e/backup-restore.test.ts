import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshift, json } from '../support/cli.js';
import { listDir, makeSample, query, sha256, workspace } from '../support/fixtures.js';

interface Result {
  ok: boolean;
  status: string;
  backup: { path: string; sha256: string } | null;
  error?: { code: string; exitCode: number };
  notices: string[];
  checks: Array<{ name: string; ok: boolean; detail: string }>;
}

describe('restore: rollback by backup', () => {
  it('brings the pre-migration file back byte for byte and keeps the replaced file', () => {
    const ws = workspace({ reports: 300 });
    const migrated = json<Result>(dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env }));
    expect(migrated.ok).toBe(true);
    const migratedHash = sha256(ws.target);

    const run = dbshift(['restore', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stdout).toBe(0);
    expect(sha256(ws.target)).toBe(migrated.backup!.sha256);
    const replaced = listDir(ws.backups).find((n) => /^health_records_replaced_\d{8}_\d{6}\.db$/.test(n));
    expect(replaced).toBeDefined();
    expect(sha256(path.join(ws.backups, replaced!))).toBe(migratedHash);
    // The backup itself was copied, never moved, and still verifies.
    expect(fs.existsSync(migrated.backup!.path)).toBe(true);
    expect(execFileSync('sha256sum', ['-c', `${path.basename(migrated.backup!.path)}.sha256`], { cwd: ws.backups, encoding: 'utf8' })).toContain('OK');
    expect(listDir(ws.instance)).toEqual(['health_records.db']);
  });

  it('restores a named backup to --to: the pre-v5 file, byte for byte', () => {
    const ws = workspace({ reports: 100 });
    const migrated = json<Result>(dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env }));
    const elsewhere = path.join(ws.dir, 'restored', 'health_records.db');
    const run = dbshift(['restore', migrated.backup!.path, '--to', elsewhere], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stdout).toBe(0);
    expect(sha256(elsewhere)).toBe(migrated.backup!.sha256);
    expect(query<{ n: number }>(elsewhere, `SELECT count(*) AS n FROM pragma_table_info('report') WHERE name = 'unique_identifier'`)[0]?.n).toBe(0);
  });

  it.each([
    ['a tampered backup', (file: string) => fs.appendFileSync(file, 'x')],
    ['a truncated backup', (file: string) => fs.truncateSync(file, 4096)],
    ['a backup without its checksum file', (file: string) => fs.rmSync(`${file}.sha256`)],
  ])('refuses %s with 65 and leaves the target untouched', (_label, damage) => {
    const ws = workspace({ reports: 100 });
    const migrated = json<Result>(dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env }));
    damage(migrated.backup!.path);
    const before = sha256(ws.target);
    const run = dbshift(['restore', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code).toBe(65);
    expect(sha256(ws.target)).toBe(before);
    expect(listDir(ws.backups).some((n) => n.startsWith('health_records_replaced_'))).toBe(false);
    expect(listDir(ws.instance)).toEqual(['health_records.db']);
  });

  it('backups lists time, size and whether each checksum still matches', () => {
    const ws = workspace({ reports: 100 });
    dbshift(['migrate'], { cwd: ws.dir, env: ws.env });
    const listed = json<{ backups: Array<{ path: string; bytes: number; checksum: string; takenAt: string }> }>(dbshift(['backups', '--json'], { cwd: ws.dir, env: ws.env }));
    expect(listed.backups).toHaveLength(1);
    expect(listed.backups[0]!.checksum).toBe('ok');
    expect(listed.backups[0]!.bytes).toBe(fs.statSync(listed.backups[0]!.path).size);
    expect(listed.backups[0]!.takenAt).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    fs.appendFileSync(listed.backups[0]!.path, 'tampered');
    const after = dbshift(['backups'], { cwd: ws.dir, env: ws.env });
    expect(after.stdout).toContain('CHECKSUM MISMATCH');
  });
});

describe('the backup of the old database, by either route, restores byte for byte', () => {
  interface Routed extends Result {
    backupRoute: { route: string; reason: string };
    reportPath: string;
  }

  it('SOURCE_DB is the live file: the old file itself becomes the one backup (same inode, no bytes written); --backup copy makes an independent one; restore gives the old bytes back from each', () => {
    const ws = workspace({ withSample: false });
    makeSample(ws, ws.target, { reports: 150, seed: 5 });
    const original = sha256(ws.target);
    const inode = fs.statSync(ws.target).ino;
    const env = { ...ws.env, SOURCE_DB: ws.target };

    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env });
    expect(run.code, run.stdout).toBe(0);
    const moved = json<Routed>(run);
    expect(moved.backupRoute).toMatchObject({ route: 'old-file', reason: expect.stringContaining('the file publish replaces') });
    // The backup is the old file itself: its inode, its bytes, 0600, checksummed; nothing else holds the old database.
    expect(fs.statSync(moved.backup!.path).ino).toBe(inode);
    expect(moved.backup!.sha256).toBe(original);
    expect(fs.statSync(moved.backup!.path).mode & 0o777).toBe(0o600);
    expect(execFileSync('sha256sum', ['-c', `${path.basename(moved.backup!.path)}.sha256`], { cwd: ws.backups, encoding: 'utf8' })).toContain(': OK');
    expect(listDir(ws.backups).filter((n) => n.endsWith('.db'))).toEqual([path.basename(moved.backup!.path)]);
    expect(JSON.parse(fs.readFileSync(moved.reportPath, 'utf8')).backupRoute.route).toBe('old-file');
    expect(dbshift(['migrate', '--json'], { cwd: ws.dir, env }).code).toBe(0); // nothing to do now

    const restored = dbshift(['restore', moved.backup!.path, '--json'], { cwd: ws.dir, env: ws.env });
    expect(restored.code, restored.stdout).toBe(0);
    expect(sha256(ws.target)).toBe(original);

    // Again, with an independent copy asked for: the old file is kept as the replaced file, the copy is the backup.
    const copied = json<Routed>(dbshift(['migrate', '--backup', 'copy', '--json'], { cwd: ws.dir, env }));
    expect(copied.ok).toBe(true);
    expect(copied.backupRoute).toMatchObject({ route: 'copy', reason: expect.stringContaining('--backup copy') });
    expect(copied.backup!.sha256).toBe(original);
    expect(fs.statSync(copied.backup!.path).ino).not.toBe(fs.statSync(ws.target).ino);
    expect(dbshift(['restore', copied.backup!.path], { cwd: ws.dir, env: ws.env }).code).toBe(0);
    expect(sha256(ws.target)).toBe(original);
  });

  it('backups/ on another filesystem (a hard link fails with EXDEV): a copy, said so; it restores byte for byte', () => {
    const ws = workspace({ withSample: false });
    makeSample(ws, ws.target, { reports: 80, seed: 6 });
    const original = sha256(ws.target);
    const elsewhere = fs.mkdtempSync('/dev/shm/dbshift-test-backups-');
    try {
      const env = { ...ws.env, SOURCE_DB: ws.target, BACKUP_DIR: elsewhere };
      const run = json<Routed>(dbshift(['migrate', '--json'], { cwd: ws.dir, env }));
      expect(run.ok, JSON.stringify(run.error)).toBe(true);
      expect(run.backupRoute).toMatchObject({ route: 'copy', reason: expect.stringContaining('EXDEV') });
      expect(sha256(run.backup!.path)).toBe(original);
      expect(listDir(elsewhere).filter((n) => n.includes('.dbshift-tmp'))).toEqual([]);
      expect(dbshift(['restore', run.backup!.path], { cwd: ws.dir, env }).code).toBe(0);
      expect(sha256(ws.target)).toBe(original);
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe('backup: a backup only', () => {
  it('takes a timestamped, checksummed backup with the online backup API and changes nothing else', () => {
    const ws = workspace({ reports: 100 });
    const before = sha256(ws.old);
    const run = dbshift(['backup', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stdout).toBe(0);
    const result = json<Result>(run);
    expect(path.basename(result.backup!.path)).toMatch(/^health_records_backup_\d{8}_\d{6}\.db$/);
    expect(sha256(result.backup!.path)).toBe(result.backup!.sha256);
    expect(sha256(ws.old)).toBe(before);
    expect(query<{ n: number }>(result.backup!.path, 'SELECT count(*) AS n FROM report')[0]?.n).toBe(100);
    // Two backups in the same second get distinct names; neither overwrites the other.
    const second = json<Result>(dbshift(['backup', '--json'], { cwd: ws.dir, env: ws.env }));
    expect(second.backup!.path).not.toBe(result.backup!.path);
    expect(listDir(ws.backups).filter((n) => n.endsWith('.db'))).toHaveLength(2);
  });
});

describe('verify: an already migrated database', () => {
  it('passes on a migrated database, with and without --against, and fails on a tampered value', () => {
    const ws = workspace({ reports: 200, messy: true });
    const migrated = json<Result>(dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env }));
    const plain = dbshift(['verify', '--json'], { cwd: ws.dir, env: ws.env });
    expect(plain.code, plain.stdout).toBe(0);
    expect(json<Result>(plain).status).toBe('verified');
    const full = dbshift(['verify', ws.target, '--against', migrated.backup!.path, '--json'], { cwd: ws.dir, env: ws.env });
    expect(full.code, full.stdout).toBe(0);
    expect(json<Result>(full).checks.map((c) => c.name)).toContain('pre-existing values unchanged');

    const db = path.join(ws.dir, 'copy.db');
    fs.copyFileSync(ws.target, db);
    execFileSync(process.execPath, ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1]);d.exec("UPDATE user SET nachname = nachname || 'x' WHERE id = 2");d.close()`, db], { cwd: path.resolve(import.meta.dirname, '../..') });
    const tampered = dbshift(['verify', db, '--against', migrated.backup!.path, '--json'], { cwd: ws.dir, env: ws.env });
    expect(tampered.code).toBe(65);
    const check = json<Result>(tampered).checks.find((c) => c.name === 'pre-existing values unchanged');
    expect(check?.ok).toBe(false);
    expect(check?.detail).toContain('user: 1 rows differ');
  });
});
