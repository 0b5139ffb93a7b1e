import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshift } from '../support/cli.js';
import { listDir, makeSample, query, workspace } from '../support/fixtures.js';
import { tempDir } from '../support/tmp.js';

// Issue 14 item 2: files never appear relative to wherever the operator stands.

describe('where migrate puts files', () => {
  it('SOURCE_DB from another directory: publishes beside the source, backups beside instance/, nothing in the cwd; said before any work', () => {
    const ws = workspace({ withSample: false });
    const app = path.join(ws.dir, 'srv', 'healthsum');
    const live = path.join(app, 'instance', 'health_records.db');
    fs.mkdirSync(path.dirname(live), { recursive: true });
    makeSample(ws, live, { reports: 60 });
    const elsewhere = tempDir();
    const run = dbshift(['migrate'], { cwd: elsewhere, env: { ...ws.env, SOURCE_DB: live } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(listDir(elsewhere)).toEqual([]);
    expect(query(live, `SELECT count(*) AS n FROM sqlite_master WHERE name = 'task_log'`)).toEqual([{ n: 1 }]);
    const backups = listDir(path.join(app, 'backups'));
    // The live file was the source: the old file itself became the one backup (nothing "replaced" besides it).
    expect(backups.filter((n) => n.endsWith('.db'))).toEqual([expect.stringMatching(/^health_records_backup_\d{8}_\d{6}\.db$/)]);
    // The announcement comes first, before the first step's line.
    const lines = run.stderr.split('\n');
    const publish = lines.findIndex((l) => l.includes(`publish to  ${live}`));
    const backupsLine = lines.findIndex((l) => l.includes(`backups in  ${path.join(app, 'backups')}`));
    const firstStep = lines.findIndex((l) => /preflight/.test(l));
    expect(publish).toBeGreaterThanOrEqual(0);
    expect(backupsLine).toBeGreaterThanOrEqual(0);
    expect(firstStep === -1 || publish < firstStep).toBe(true);
  });

  it('a source outside an instance/ directory keeps its backups in <its directory>/backups; INSTANCE_DIR/BACKUP_DIR still win', () => {
    const ws = workspace({ withSample: false });
    const data = path.join(ws.dir, 'data');
    fs.mkdirSync(data);
    makeSample(ws, path.join(data, 'health_records_old.db'), { reports: 30 });
    const elsewhere = tempDir();
    const plan = dbshift(['migrate', '--rehearse'], { cwd: elsewhere, env: { ...ws.env, SOURCE_DB: path.join(data, 'health_records_old.db') } });
    expect(plan.code, plan.stderr).toBe(0);
    expect(listDir(elsewhere)).toEqual([]);
    const run = dbshift(['migrate'], { cwd: elsewhere, env: { ...ws.env, SOURCE_DB: path.join(data, 'health_records_old.db') } });
    expect(run.code, run.stdout).toBe(0);
    expect(listDir(data).filter((n) => !n.startsWith('.'))).toEqual(['backups', 'health_records.db']);
    expect(listDir(elsewhere)).toEqual([]);
    const explicit = path.join(ws.dir, 'explicit');
    const help = dbshift(['migrate', '--help'], { cwd: elsewhere, env: {} });
    expect(help.stdout).toMatch(/SECRET_KEY/);
    expect(help.stdout).toMatch(/backups/);
    expect(help.stdout).toMatch(/Examples:/);
    const backup = dbshift(['backup', '--source', path.join(data, 'health_records.db')], { cwd: elsewhere, env: { ...ws.env, BACKUP_DIR: explicit } });
    expect(backup.code, backup.stdout).toBe(0);
    expect(listDir(explicit).filter((n) => n.endsWith('.db'))).toHaveLength(1);
  });
});
