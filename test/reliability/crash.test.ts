import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, dbshift, dbshiftAsync, json } from '../support/cli.js';
import { listDir, makeSample, query, sha256, workspace, type Workspace } from '../support/fixtures.js';
import { collect, waitUntilStopped } from '../support/process.js';

// SIGKILL the real CLI at every named point and prove what the crash leaves behind:
// the source is untouched, the target is the old file, absent, or the complete migrated file,
// every leftover is cleaned by the rerun, and the rerun's result equals an uninterrupted run's.

const POINTS = [
  'before-preflight', 'preflight-opened', 'after-preflight',
  'before-lock', 'after-lock',
  'before-snapshot', 'snapshot-bytes', 'after-snapshot',
  'before-transform', 'transform-schema', 'transform-backfill', 'transform-indexes', 'transform-before-commit', 'after-transform',
  'before-backup', 'backup-renamed', 'after-backup',
  'before-verify', 'verify-rows', 'after-verify',
  'before-publish', 'publish-before-move-aside', 'publish-before-rename', 'publish-after-rename', 'after-publish',
];

const SAMPLE = { reports: 300, messy: true, seed: 21 };

interface Outcome {
  counts: Record<string, { after: number | null }>;
  identifiers: Array<{ id: number; unique_identifier: string | null }>;
}

function setUp(): { ws: Workspace; source: string; oldTarget: string; env: Record<string, string> } {
  const ws = workspace({ withSample: false });
  const source = path.join(ws.dir, 'prod', 'health_records.db');
  makeSample(ws, source, SAMPLE);
  // An older database already stands at the target: it must survive every crash, moved or in place.
  fs.mkdirSync(ws.instance);
  const oldTarget = path.join(ws.dir, 'older.db');
  makeSample(ws, oldTarget, { reports: 10, seed: 99 });
  fs.copyFileSync(oldTarget, ws.target);
  return { ws, source, oldTarget, env: { ...ws.env, SOURCE_DB: source, INSTANCE_DIR: ws.instance, BACKUP_DIR: ws.backups } };
}

function identifiers(file: string): Outcome['identifiers'] {
  return query(file, 'SELECT id, unique_identifier FROM report ORDER BY id');
}

function tempFiles(ws: Workspace): string[] {
  return [...listDir(ws.instance), ...listDir(ws.backups)].filter((n) => n.includes('.dbshift-tmp') || n === '.dbshift.lock');
}

describe('a crash (SIGKILL) at any point', () => {
  let reference: Outcome;
  beforeAll(() => {
    const { ws, env } = setUp();
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env });
    expect(run.code, run.stdout).toBe(0);
    reference = { counts: json<Outcome>(run).counts, identifiers: identifiers(ws.target) };
  });

  it.each(POINTS)('at %s leaves the source untouched, the target old/absent/complete, and a rerun finishes the job', (point) => {
    const { ws, source, oldTarget, env } = setUp();
    const sourceHash = sha256(source);
    const crashed = spawnSync(process.execPath, [CLI, 'migrate'], { cwd: ws.dir, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env, DBSHIFT_FAULT: `crash@${point}` }, encoding: 'utf8' });
    expect(crashed.signal, `did not crash at ${point}: ${crashed.stdout}`).toBe('SIGKILL');

    expect(sha256(source)).toBe(sourceHash);
    // A database stood at the target before: at no moment is there none.
    expect(fs.existsSync(ws.target)).toBe(true);
    if (fs.existsSync(ws.target)) {
      if (sha256(ws.target) !== sha256(oldTarget)) {
        // Not the old file: then it must be the complete, verified migration.
        const verified = dbshift(['verify', '--json'], { cwd: ws.dir, env });
        expect(verified.code, verified.stdout).toBe(0);
        expect(identifiers(ws.target)).toEqual(reference.identifiers);
      }
    }
    // The older target is never lost: in place, or moved into backups/.
    const olderKept = [ws.target, ...listDir(ws.backups).map((n) => path.join(ws.backups, n))].some((f) => fs.existsSync(f) && fs.statSync(f).isFile() && sha256(f) === sha256(oldTarget));
    expect(olderKept).toBe(true);
    // Any backup with a checksum file is complete.
    for (const name of listDir(ws.backups).filter((n) => n.endsWith('.db.sha256'))) {
      expect(spawnSync('sha256sum', ['-c', name], { cwd: ws.backups }).status).toBe(0);
    }

    const rerun = dbshift(['migrate', '--json'], { cwd: ws.dir, env });
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(json<Outcome>(rerun).counts).toEqual(reference.counts);
    expect(identifiers(ws.target)).toEqual(reference.identifiers);
    expect(tempFiles(ws)).toEqual([]);
    expect(sha256(source)).toBe(sourceHash);
  });
});

// SOURCE_DB is the live file and nothing writes it: the old file itself becomes the backup at
// publish. Its points: held, hashed, built, verified, then given the backup's name, then replaced.
const OLD_FILE_POINTS = [
  'snapshot-held', 'backup-bytes', 'transform-backfill', 'after-backup', 'verify-rows',
  'publish-before-move-aside', 'publish-backup-named', 'publish-before-rename', 'publish-after-rename', 'after-publish',
];

function setUpLive(): { ws: Workspace; original: string; env: Record<string, string> } {
  const ws = workspace({ withSample: false });
  fs.mkdirSync(ws.instance);
  makeSample(ws, ws.target, SAMPLE);
  return { ws, original: sha256(ws.target), env: { ...ws.env, SOURCE_DB: ws.target } };
}

function backupsOf(ws: Workspace): string[] {
  return listDir(ws.backups).filter((n) => n.endsWith('.db')).map((n) => path.join(ws.backups, n));
}

describe('a crash (SIGKILL) on the old-file route (the old file becomes the backup at publish)', () => {
  let reference: Outcome['identifiers'];
  beforeAll(() => {
    const { ws, env } = setUpLive();
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env });
    expect(run.code, run.stdout).toBe(0);
    expect(json<{ backupRoute: { route: string } }>(run).backupRoute.route).toBe('old-file');
    reference = identifiers(ws.target);
  });

  it.each(OLD_FILE_POINTS)('at %s: the old database is the target or a checksummed backup; the rerun leaves exactly one verified backup of it', (point) => {
    const { ws, original, env } = setUpLive();
    const crashed = spawnSync(process.execPath, [CLI, 'migrate'], { cwd: ws.dir, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env, DBSHIFT_FAULT: `crash@${point}` }, encoding: 'utf8' });
    expect(crashed.signal, `did not crash at ${point}: ${crashed.stdout}`).toBe('SIGKILL');

    // At no moment is there no database at the target: the old one, or the complete migration.
    expect(fs.existsSync(ws.target)).toBe(true);
    if (sha256(ws.target) !== original) {
      expect(dbshift(['verify', '--json'], { cwd: ws.dir, env }).code).toBe(0);
      expect(identifiers(ws.target)).toEqual(reference);
      // Published: the old bytes are a backup with a checksum.
      expect(backupsOf(ws).map(sha256)).toContain(original);
    }
    for (const name of listDir(ws.backups).filter((n) => n.endsWith('.db.sha256'))) {
      expect(spawnSync('sha256sum', ['-c', name], { cwd: ws.backups }).status).toBe(0);
    }

    const rerun = dbshift(['migrate', '--json'], { cwd: ws.dir, env });
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(identifiers(ws.target)).toEqual(reference);
    const backups = backupsOf(ws);
    expect(backups).toHaveLength(1);
    expect(sha256(backups[0]!)).toBe(original);
    expect(spawnSync('sha256sum', ['-c', `${path.basename(backups[0]!)}.sha256`], { cwd: ws.backups }).status).toBe(0);
    // The backup is never a second name of the live file.
    expect(fs.statSync(backups[0]!).ino).not.toBe(fs.statSync(ws.target).ino);
    // After a crash past the rename the rerun has nothing to do and stops before the lock step:
    // the dead run's lock stays until the next run takes it over; no temp file stays.
    expect(tempFiles(ws).filter((n) => n !== '.dbshift.lock')).toEqual([]);
  });

  it.each(['transform-backfill', 'verify-rows', 'publish-backup-named'])('Ctrl-C at %s: exit 130, the live file untouched, no backup needed and none left', async (point) => {
    const { ws, original, env } = setUpLive();
    const child = dbshiftAsync(['migrate', '--json'], { cwd: ws.dir, env: { ...env, DBSHIFT_FAULT: `pause@${point}` } });
    const finished = collect(child);
    await waitUntilStopped(child.pid!);
    process.kill(child.pid!, 'SIGINT');
    process.kill(child.pid!, 'SIGCONT');
    const result = await finished;
    expect(result.code).toBe(130);
    const error = JSON.parse(result.stdout).error as { code: string; dataState: string };
    expect(error.code).toBe('interrupted');
    expect(error.dataState).toContain('No backup was needed, so none was made');
    expect(sha256(ws.target)).toBe(original);
    expect(backupsOf(ws)).toEqual([]);
    expect(listDir(ws.backups).filter((n) => n.endsWith('.sha256'))).toEqual([]);
    expect(tempFiles(ws)).toEqual([]);
  });
});

describe('a crash (SIGKILL) on the backup API route (a WAL source with un-checkpointed commits)', () => {
  it.each(['snapshot-pages', 'after-snapshot', 'backup-bytes', 'transform-backfill'])('at %s: source and its -wal untouched, the rerun migrates the -wal rows too', (point) => {
    const { ws, source, env } = setUp();
    // A writer killed before it could checkpoint leaves committed rows only in the -wal.
    const writer = spawnSync(process.execPath, ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1]);d.pragma('journal_mode = WAL');d.pragma('wal_autocheckpoint = 0');d.exec("INSERT INTO user (vorname, nachname, username, email) VALUES ('W', 'R', 'wal.row', 'wal.row@example.org')");process.kill(process.pid, 'SIGKILL')`, source], { cwd: path.dirname(CLI) });
    expect(writer.signal).toBe('SIGKILL');
    expect(fs.statSync(`${source}-wal`).size).toBeGreaterThan(0);
    const hashes = [sha256(source), sha256(`${source}-wal`)];
    const crashed = spawnSync(process.execPath, [CLI, 'migrate'], { cwd: ws.dir, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env, DBSHIFT_FAULT: `crash@${point}` }, encoding: 'utf8' });
    expect(crashed.signal, `did not crash at ${point}: ${crashed.stdout}`).toBe('SIGKILL');
    expect([sha256(source), sha256(`${source}-wal`)]).toEqual(hashes);
    for (const name of listDir(ws.backups).filter((n) => n.endsWith('.db.sha256'))) {
      expect(spawnSync('sha256sum', ['-c', name], { cwd: ws.backups }).status).toBe(0);
    }
    const rerun = dbshift(['migrate', '--json'], { cwd: ws.dir, env });
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(query(ws.target, `SELECT username FROM user WHERE username = 'wal.row'`)).toHaveLength(1);
    expect(tempFiles(ws)).toEqual([]);
    expect([sha256(source), sha256(`${source}-wal`)]).toEqual(hashes);
  });
});

describe('Ctrl-C', () => {
  it.each(['snapshot-bytes', 'transform-backfill', 'verify-rows', 'before-publish'])('at %s: exit 130, nothing published, lock released, temp files removed', async (point) => {
    const { ws, oldTarget, env } = setUp();
    const child = dbshiftAsync(['migrate', '--json'], { cwd: ws.dir, env: { ...env, DBSHIFT_FAULT: `pause@${point}` } });
    const finished = collect(child);
    await waitUntilStopped(child.pid!);
    expect([...listDir(ws.instance), ...listDir(ws.backups)].some((n) => n.includes('.dbshift-tmp'))).toBe(true);
    process.kill(child.pid!, 'SIGINT');
    process.kill(child.pid!, 'SIGCONT');
    const result = await finished;
    expect(result.code).toBe(130);
    expect(JSON.parse(result.stdout).error.code).toBe('interrupted');
    expect(sha256(ws.target)).toBe(sha256(oldTarget));
    expect(tempFiles(ws)).toEqual([]);
  });
});

describe('a crash (SIGKILL) during restore', () => {
  it.each(['before-restore', 'restore-bytes', 'restore-before-move-aside', 'after-restore'])('at %s: the target is the migrated file or the backup, and a rerun restores', (point) => {
    const { ws, env } = setUp();
    const migrated = dbshift(['migrate', '--json'], { cwd: ws.dir, env });
    expect(migrated.code).toBe(0);
    const backup = json<{ backup: { path: string; sha256: string } }>(migrated).backup;
    const migratedHash = sha256(ws.target);

    const crashed = spawnSync(process.execPath, [CLI, 'restore'], { cwd: ws.dir, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env, DBSHIFT_FAULT: `crash@${point}` }, encoding: 'utf8' });
    expect(crashed.signal).toBe('SIGKILL');
    expect([migratedHash, backup.sha256]).toContain(sha256(ws.target));
    expect(sha256(backup.path)).toBe(backup.sha256);

    const rerun = dbshift(['restore', backup.path], { cwd: ws.dir, env });
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(sha256(ws.target)).toBe(backup.sha256);
    // The migrated file is kept somewhere in backups/, whatever moment the crash hit.
    expect(listDir(ws.backups).some((n) => n.startsWith('health_records_replaced_') && sha256(path.join(ws.backups, n)) === migratedHash)).toBe(true);
    expect(tempFiles(ws)).toEqual([]);
  });
});
