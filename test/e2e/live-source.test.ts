import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dbshift, dbshiftAsync, json, ROOT } from '../support/cli.js';
import { collect, waitUntilStopped, type Finished } from '../support/process.js';
import { listDir, makeSample, query, sha256, workspace } from '../support/fixtures.js';
import { project } from '../support/project.js';

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) child.kill('SIGKILL');
});

/** Start a process that holds the database like a live app would; resolves once it is in place. */
function hold(file: string, mode: 'wal-rows' | 'wal-idle' | 'write-lock', rows = 0): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'test/support/holder.mjs'), file, mode, String(rows)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  running.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
}

/** `dbshift migrate` paused at a fault point: resolves once it is stopped; `resume()` lets it finish. */
async function migratePausedAt(point: string, args: string[], env: Record<string, string>, cwd: string): Promise<{ resume(): Promise<Finished> }> {
  const child = dbshiftAsync(['migrate', ...args], { cwd, env: { ...env, DBSHIFT_FAULT: `pause@${point}` } });
  const finished = collect(child);
  await waitUntilStopped(child.pid!);
  return {
    resume() {
      process.kill(child.pid!, 'SIGCONT');
      return finished;
    },
  };
}

describe('a live source (SOURCE_DB) held by another process', () => {
  it('snapshots a WAL database with un-checkpointed rows through the backup API: the rows are migrated, the source bytes untouched', async () => {
    const ws = workspace({ withSample: false });
    const live = path.join(ws.dir, 'prod', 'health_records.db');
    makeSample(ws, live, { reports: 200 });
    await hold(live, 'wal-rows', 25);
    expect(fs.statSync(`${live}-wal`).size).toBeGreaterThan(0);
    const mainBefore = sha256(live);
    const walBefore = sha256(`${live}-wal`);

    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: { ...ws.env, SOURCE_DB: live, INSTANCE_DIR: ws.instance, BACKUP_DIR: ws.backups } });
    expect(run.code, run.stdout).toBe(0);
    // With SOURCE_DB set, nothing named health_records_old.db is left behind.
    expect(listDir(ws.instance)).toEqual(['health_records.db']);
    const rows = query<{ n: number }>(ws.target, `SELECT count(*) AS n FROM user WHERE username LIKE 'wal.row.%'`);
    expect(rows[0]?.n).toBe(25);
    // The source was read, never written: not even a checkpoint.
    expect(sha256(live)).toBe(mainBefore);
    expect(sha256(`${live}-wal`)).toBe(walBefore);
    // The journal mode of the source is kept.
    expect(query<{ journal_mode: string }>(ws.target, 'PRAGMA journal_mode')[0]?.journal_mode).toBe('wal');
  });

  it('refuses a source whose write lock another process holds (BEGIN IMMEDIATE): 75 within the busy timeout, nothing written', async () => {
    const ws = workspace({ withSample: false });
    const live = path.join(ws.dir, 'prod', 'health_records.db');
    makeSample(ws, live, { reports: 100 });
    await hold(live, 'write-lock');
    const started = Date.now();
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: { ...ws.env, SOURCE_DB: live, INSTANCE_DIR: ws.instance, BACKUP_DIR: ws.backups, DBSHIFT_BUSY_TIMEOUT_MS: '300' } });
    expect(run.code).toBe(75);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(json<{ error: { code: string } }>(run).error.code).toBe('source-busy');
    expect(fs.existsSync(ws.instance)).toBe(false);
    expect(fs.existsSync(ws.backups)).toBe(false);
  });

  it('refuses a source with a hot journal beside it (75) without rolling it back', () => {
    const ws = workspace({ reports: 50 });
    const journal = `${ws.old}-journal`;
    fs.writeFileSync(journal, Buffer.concat([Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]), Buffer.alloc(504)]));
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code).toBe(75);
    expect(json<{ error: { code: string } }>(run).error.code).toBe('hot-journal');
    expect(fs.existsSync(journal)).toBe(true);
  });
});

describe('every command that replaces a database file refuses one another process has open (75)', () => {
  interface Failed { error: { code: string; message: string } }
  it.each([
    ['a non-empty -wal', 'wal-rows'],
    ['an empty -wal (all checkpointed, the app idle)', 'wal-idle'],
  ] as const)('restore while the app holds the target open in WAL mode with %s: 75, the target untouched, nothing moved aside', async (_label, mode) => {
    const ws = workspace({ reports: 50 });
    expect(dbshift(['migrate'], { cwd: ws.dir, env: ws.env }).code).toBe(0);
    await hold(ws.target, mode, 3);
    const before = sha256(ws.target);
    const run = dbshift(['restore', '--json'], { cwd: ws.dir, env: { ...ws.env, DBSHIFT_BUSY_TIMEOUT_MS: '200' } });
    expect(run.code, run.stdout).toBe(75);
    expect(json<Failed>(run).error.code).toBe('target-live');
    expect(sha256(ws.target)).toBe(before);
    expect(fs.existsSync(`${ws.target}-wal`)).toBe(true);
    expect(listDir(ws.backups).filter((n) => n.includes('_replaced_'))).toEqual([]);
    expect(listDir(ws.instance).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('migrate in place (SOURCE_DB is the target) while the app holds it open in WAL mode, idle: 75 before any work, nothing written', async () => {
    const ws = workspace({ withSample: false });
    makeSample(ws, ws.target, { reports: 50 });
    await hold(ws.target, 'wal-idle');
    const before = sha256(ws.target);
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: { ...ws.env, SOURCE_DB: ws.target, INSTANCE_DIR: ws.instance, DBSHIFT_BUSY_TIMEOUT_MS: '200' } });
    expect(run.code, run.stdout).toBe(75);
    expect(json<Failed>(run).error).toMatchObject({ code: 'target-live', message: expect.stringContaining('open in another process') });
    expect(sha256(ws.target)).toBe(before);
    expect(fs.existsSync(ws.backups) ? listDir(ws.backups) : []).toEqual([]);
  });
});

describe('up on a WAL database the app holds open', () => {
  it('un-checkpointed rows in the -wal are in up\'s backup and are migrated in place; the file stays the one the app has open', async () => {
    const p = project({ '000001_user.up.sql': 'CREATE TABLE user (id INTEGER PRIMARY KEY, vorname TEXT, nachname TEXT, username TEXT, email TEXT, is_active INTEGER, level INTEGER);\n' });
    expect(p.run('up', '--create', '--no-backup').code).toBe(0);
    await hold(p.db, 'wal-rows', 5);
    const inode = fs.statSync(p.db).ino;
    p.write('000002_note.up.sql', 'ALTER TABLE user ADD COLUMN note TEXT;\n');
    const up = p.run('up', '--json');
    expect(up.code, up.stdout).toBe(0);
    const backup = json<{ backup: { path: string } }>(up).backup.path;
    expect(query<{ n: number }>(backup, 'SELECT count(*) AS n FROM user')[0]!.n).toBe(5);
    expect(query<{ n: number }>(p.db, `SELECT count(*) AS n FROM user WHERE note IS NULL`)[0]!.n).toBe(5);
    expect(fs.statSync(p.db).ino).toBe(inode);
  });
});

describe('the file copy (--backup copy) is taken only from a provably quiescent source', () => {
  it('a WAL source written while its bytes are copied (the -wal fills up): refused with 75 source-changed, nothing published, source untouched', async () => {
    const ws = workspace({ withSample: false });
    const live = path.join(ws.dir, 'prod', 'health_records.db');
    makeSample(ws, live, { reports: 200 });
    // WAL mode with an empty -wal (the last close checkpointed it): quiescent, so the run copies the file.
    spawnSync(process.execPath, ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1]);d.pragma('journal_mode = WAL');d.close()`, live], { cwd: ROOT });
    const mainBefore = sha256(live);
    const run = await migratePausedAt('snapshot-bytes', ['--backup', 'copy', '--json'], { ...ws.env, SOURCE_DB: live }, ws.dir);
    // WAL writers do not wait for readers: this commit lands in the -wal while dbshift holds its read.
    const writer = spawnSync(process.execPath, ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1]);d.pragma('wal_autocheckpoint = 0');d.exec("UPDATE user SET nachname = nachname || ' (changed)' WHERE id = 1");d.close()`, live], { cwd: ROOT });
    expect(writer.status).toBe(0);
    const finished = await run.resume();
    expect(finished.code).toBe(75);
    expect(JSON.parse(finished.stdout).error).toMatchObject({ code: 'source-changed', message: expect.stringContaining('while it was copied') });
    expect(fs.existsSync(ws.target)).toBe(false);
    expect(listDir(ws.backups).filter((n) => n.endsWith('.db'))).toEqual([]);
    // The commit sits in the -wal (dbshift's read kept it from being checkpointed); the file's bytes are as they were.
    expect(fs.statSync(`${live}-wal`).size).toBeGreaterThan(0);
    expect(sha256(live)).toBe(mainBefore);
  });

  it('without a GNU cp (a BSD cp refuses --reflink), the quiescent source is snapshotted through the backup API instead', () => {
    const ws = workspace({ reports: 100 });
    const bin = path.join(ws.dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'cp'), "#!/bin/sh\necho \"cp: illegal option -- -\" >&2\necho 'usage: cp [-R] source target' >&2\nexit 64\n", { mode: 0o755 });
    const run = dbshift(['migrate', '--backup', 'copy', '--json'], { cwd: ws.dir, env: { ...ws.env, PATH: `${bin}:${process.env.PATH ?? ''}` } });
    expect(run.code, run.stdout).toBe(0);
    expect(json<{ steps: Array<{ name: string; detail?: string }> }>(run).steps.find((s) => s.name === 'snapshot')?.detail).toBe('online backup API');
    expect(dbshift(['verify', '--json'], { cwd: ws.dir, env: ws.env }).code).toBe(0);
  });

  it('a rollback-journal source cannot be committed to while its bytes are copied: the writer waits (busy)', async () => {
    const ws = workspace({ withSample: false });
    const live = path.join(ws.dir, 'prod', 'health_records.db');
    makeSample(ws, live, { reports: 200 });
    const mainBefore = sha256(live);
    const run = await migratePausedAt('snapshot-bytes', ['--backup', 'copy', '--json'], { ...ws.env, SOURCE_DB: live }, ws.dir);
    const writer = spawnSync(process.execPath, ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1],{timeout:200});try{d.exec("UPDATE user SET nachname = 'x' WHERE id = 1");console.log('committed')}catch(e){console.log(e.code)}`, live], { cwd: ROOT, encoding: 'utf8' });
    expect(writer.stdout.trim()).toBe('SQLITE_BUSY');
    expect(sha256(live)).toBe(mainBefore);
    const finished = await run.resume();
    expect(finished.code).toBe(0);
  });
});

describe('the old file becomes the backup only while the source is held quiescent for the whole run', () => {
  it('a WAL commit during the run (after the build, before publish) is refused at publish: 75, nothing published, no backup needed and none made', async () => {
    const ws = workspace({ withSample: false });
    const live = path.join(ws.dir, 'prod', 'health_records.db');
    makeSample(ws, live, { reports: 200 });
    spawnSync(process.execPath, ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1]);d.pragma('journal_mode = WAL');d.close()`, live], { cwd: ROOT });
    const mainBefore = sha256(live);
    const run = await migratePausedAt('verify-rows', ['--json'], { ...ws.env, SOURCE_DB: live }, ws.dir);
    const writer = spawnSync(process.execPath, ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1]);d.pragma('wal_autocheckpoint = 0');d.exec("UPDATE user SET nachname = nachname || ' (changed)' WHERE id = 1");d.close()`, live], { cwd: ROOT });
    expect(writer.status).toBe(0);
    const finished = await run.resume();
    expect(finished.code).toBe(75);
    const result = JSON.parse(finished.stdout) as { error: { code: string; message: string; dataState: string }; backupRoute: { route: string }; backup: unknown };
    expect(result.backupRoute.route).toBe('old-file');
    expect(result.error).toMatchObject({ code: 'source-changed', message: expect.stringContaining('-wal holds content') });
    expect(result.error.dataState).toContain('No backup was needed, so none was made');
    expect(result.backup).toBeNull();
    // The live file is still the old database (its commit in the -wal, which dbshift's read kept from a checkpoint); no backup name for it.
    expect(sha256(live)).toBe(mainBefore);
    expect(listDir(path.join(ws.dir, 'prod', 'backups')).filter((n) => n.endsWith('.db') || n.endsWith('.sha256'))).toEqual([]);
  });

  it('a rollback-journal writer cannot commit at any point of the run (here: during the verification): it waits (busy), and the backup is the bytes that were hashed', async () => {
    const ws = workspace({ withSample: false });
    const live = path.join(ws.dir, 'prod', 'health_records.db');
    makeSample(ws, live, { reports: 200 });
    const mainBefore = sha256(live);
    const run = await migratePausedAt('verify-rows', ['--json'], { ...ws.env, SOURCE_DB: live }, ws.dir);
    const writer = spawnSync(process.execPath, ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1],{timeout:200});try{d.exec("UPDATE user SET nachname = 'x' WHERE id = 1");console.log('committed')}catch(e){console.log(e.code)}`, live], { cwd: ROOT, encoding: 'utf8' });
    expect(writer.stdout.trim()).toBe('SQLITE_BUSY');
    const finished = await run.resume();
    expect(finished.code).toBe(0);
    const result = JSON.parse(finished.stdout) as { backup: { path: string; sha256: string }; backupRoute: { route: string } };
    expect(result.backupRoute.route).toBe('old-file');
    expect(result.backup.sha256).toBe(mainBefore);
    expect(sha256(result.backup.path)).toBe(mainBefore);
  });
});

describe('one run at a time per instance directory', () => {
  it('a second run exits 75 naming the first run\'s pid; a dead run\'s lock is taken over with a notice', () => {
    const ws = workspace({ reports: 50 });
    const lock = path.join(ws.instance, '.dbshift.lock');
    const host = os.hostname();
    fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host, startedAt: '2026-01-01T00:00:00.000Z', command: 'migrate' }));
    const busy = dbshift(['migrate'], { cwd: ws.dir, env: ws.env });
    expect(busy.code).toBe(75);
    expect(busy.stderr).toContain(`pid ${process.pid}`);
    expect(fs.existsSync(ws.target)).toBe(false);

    // A pid that cannot be running: beyond the kernel's pid_max.
    fs.writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 7, host, startedAt: '2026-01-01T00:00:00.000Z', command: 'migrate' }));
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stdout).toBe(0);
    expect(json<{ notices: string[] }>(run).notices.join('\n')).toContain('stale lock');
    expect(fs.existsSync(lock)).toBe(false);
  });
});

describe('the source must not change between snapshot and publish', () => {
  it('refuses to publish (75, source changed since snapshot) when another process writes the source after the snapshot', async () => {
    const ws = workspace({ withSample: false });
    const live = path.join(ws.dir, 'prod', 'health_records.db');
    makeSample(ws, live, { reports: 100 });
    const run = await migratePausedAt('before-publish', ['--json'], { ...ws.env, SOURCE_DB: live, INSTANCE_DIR: ws.instance, BACKUP_DIR: ws.backups }, ws.dir);
    const writer = spawnSync(process.execPath, ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1]);d.exec("UPDATE user SET nachname = nachname || ' (changed)' WHERE id = 1");d.close()`, live], { cwd: ROOT });
    expect(writer.status).toBe(0);
    const finished = await run.resume();
    expect(finished.code).toBe(75);
    expect(JSON.parse(finished.stdout).error.code).toBe('source-changed');
    expect(fs.existsSync(ws.target)).toBe(false);
    expect(listDir(ws.instance)).toEqual([]);
  });
});
