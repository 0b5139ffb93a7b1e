import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshift, json } from '../support/cli.js';
import { listDir, makeSample, query, sha256, workspace } from '../support/fixtures.js';

// Issue 10.8: instance/health_records.db -> /data/live.db. The new file goes to the link's real
// target, atomically in that file's directory; the link stays; a real copy of the old file is kept.

interface RunJson {
  ok: boolean;
  target: string;
  backup: { path: string } | null;
  notices: string[];
  error?: { code: string; exitCode: number; message: string };
}

function linkedLayout() {
  const ws = workspace({ withSample: false });
  const live = path.join(ws.dir, 'data', 'live.db');
  fs.mkdirSync(path.dirname(live));
  fs.mkdirSync(ws.instance);
  makeSample(ws, live, { reports: 40 });
  fs.symlinkSync(live, ws.target);
  const env = { ...ws.env, SOURCE_DB: ws.target, INSTANCE_DIR: ws.instance, BACKUP_DIR: ws.backups };
  return { ws, live, env };
}

const isV5 = (file: string) => query(file, `SELECT count(*) AS n FROM sqlite_master WHERE name = 'task_log'`)[0]!.n === 1;

describe('a target that is a symlink', () => {
  it('migrate publishes at the real file, keeps the link, and keeps the old file itself (a real file) as the backup', () => {
    const { ws, live, env } = linkedLayout();
    const before = sha256(live);
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env });
    expect(run.code, run.stdout).toBe(0);
    const result = json<RunJson>(run);
    expect(fs.lstatSync(ws.target).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(ws.target)).toBe(live);
    expect(fs.lstatSync(live).isFile()).toBe(true);
    expect(isV5(live)).toBe(true);
    expect(result.target).toBe(live);
    expect(result.notices.join('\n')).toMatch(/is a symlink to .*live\.db/);
    // The old file itself became the backup (SOURCE_DB is the target): a real file, never a link.
    expect(listDir(ws.backups).filter((n) => n.endsWith('.db'))).toEqual([path.basename(result.backup!.path)]);
    const kept = result.backup!.path;
    expect(fs.lstatSync(kept).isSymbolicLink()).toBe(false);
    expect(sha256(kept)).toBe(before);
    // No temp file was left in either directory.
    expect(listDir(path.dirname(live)).filter((n) => n.includes('dbshift-tmp'))).toEqual([]);
  });

  it('restore through the link brings the backup to the real file and keeps the link', () => {
    const { ws, live, env } = linkedLayout();
    const migrated = json<RunJson>(dbshift(['migrate', '--json'], { cwd: ws.dir, env }));
    expect(migrated.ok).toBe(true);
    const afterMigrate = sha256(live);
    const run = dbshift(['restore', migrated.backup!.path, '--to', ws.target, '--json'], { cwd: ws.dir, env });
    expect(run.code, run.stdout).toBe(0);
    expect(fs.lstatSync(ws.target).isSymbolicLink()).toBe(true);
    expect(sha256(live)).toBe(sha256(migrated.backup!.path));
    expect(isV5(live)).toBe(false);
    const copies = listDir(ws.backups).filter((n) => /^live_replaced_/.test(n) && n.endsWith('.db'));
    expect(copies.map((n) => sha256(path.join(ws.backups, n)))).toContain(afterMigrate);
    for (const n of copies) expect(fs.lstatSync(path.join(ws.backups, n)).isSymbolicLink()).toBe(false);
  });

  it('a broken link is refused with 73 before any work, naming the link', () => {
    const ws = workspace();
    fs.symlinkSync(path.join(ws.dir, 'nowhere.db'), ws.target);
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code).toBe(73);
    expect(json<RunJson>(run).error?.message).toContain(ws.target);
    expect(fs.existsSync(ws.backups)).toBe(false);
    expect(fs.lstatSync(ws.target).isSymbolicLink()).toBe(true);
    const restore = dbshift(['restore', '--json'], { cwd: ws.dir, env: ws.env });
    expect(restore.code).toBe(73);
  });
});
