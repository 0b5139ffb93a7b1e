import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshift, json, ROOT, TEST_KEY } from '../support/cli.js';
import { listDir, makeSample, modes, workspace } from '../support/fixtures.js';
import { CANARY_PATIENT_NAME } from '../../src/sample/words.js';

const WRAPPER = path.join(ROOT, 'scripts/migrate_db_with_env.sh');

function wrapper(args: string[], cwd: string, env: Record<string, string>) {
  const result = spawnSync('bash', [WRAPPER, ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test', ...env } });
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

describe('what the operator sees and keeps', () => {
  it('creates every file 0600 even under umask 022', () => {
    const previous = process.umask(0o022);
    try {
      const ws = workspace({ reports: 100 });
      expect(dbshift(['migrate'], { cwd: ws.dir, env: ws.env }).code).toBe(0);
      expect(dbshift(['restore'], { cwd: ws.dir, env: ws.env }).code).toBe(0);
      const created = { ...modes(ws.instance), ...modes(ws.backups) };
      expect(Object.keys(created).length).toBeGreaterThanOrEqual(5);
      for (const [file, mode] of Object.entries(created)) expect([file, mode.toString(8)]).toEqual([file, '600']);
    } finally {
      process.umask(previous);
    }
  });

  it('the published file keeps the source\'s owner, so the app can open it (when run as root)', () => {
    const ws = workspace({ withSample: false });
    const live = path.join(ws.dir, 'prod', 'health_records.db');
    fs.mkdirSync(path.dirname(live));
    makeSample(ws, live, { reports: 50 });
    const asRoot = process.getuid?.() === 0;
    // nobody:nogroup stands in for the app's user.
    if (asRoot) fs.chownSync(live, 65534, 65534);
    const run = dbshift(['migrate'], { cwd: ws.dir, env: { ...ws.env, SOURCE_DB: live, INSTANCE_DIR: ws.instance, BACKUP_DIR: ws.backups } });
    expect(run.code, run.stdout).toBe(0);
    const published = fs.statSync(ws.target);
    expect([published.uid, published.gid]).toEqual(asRoot ? [65534, 65534] : [process.getuid!(), process.getgid!()]);
    expect((published.mode & 0o777).toString(8)).toBe('600');
  });

  it('never prints SECRET_KEY or a patient value, on success or failure, in text, JSON or the record', () => {
    const ws = workspace({ reports: 300, messy: true });
    const outputs = [
      dbshift(['plan'], { cwd: ws.dir, env: ws.env }),
      dbshift(['migrate', '--rehearse'], { cwd: ws.dir, env: ws.env }),
      dbshift(['migrate', '--strict'], { cwd: ws.dir, env: ws.env }),
      dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env }),
      dbshift(['verify'], { cwd: ws.dir, env: ws.env }),
      dbshift(['verify'], { cwd: ws.dir, env: { ...ws.env, SECRET_KEY: `${TEST_KEY}-wrong` } }),
    ].map((r) => r.stdout + r.stderr);
    const records = listDir(ws.backups).filter((n) => n.endsWith('.json')).map((n) => fs.readFileSync(path.join(ws.backups, n), 'utf8'));
    expect(records.length).toBe(1);
    for (const text of [...outputs, ...records]) {
      expect(text).not.toContain(TEST_KEY);
      expect(text).not.toContain(CANARY_PATIENT_NAME);
    }
  });

  it('the shell wrapper loads ENV_FILE, works from any directory and returns dbshift\'s exit code', () => {
    const ws = workspace({ reports: 100 });
    const envFile = path.join(ws.dir, 'maintenance.env');
    fs.writeFileSync(envFile, `SECRET_KEY="${TEST_KEY}"\nDBSHIFT_BUSY_TIMEOUT_MS=500\n`);
    const ok = wrapper(['--json'], ws.dir, { ENV_FILE: envFile });
    expect(ok.code, ok.stderr).toBe(0);
    expect(json(ok).status).toBe('migrated');

    const again = wrapper(['--json'], ws.dir, { ENV_FILE: envFile });
    expect(again.code).toBe(66);
    const missingKey = wrapper([], ws.dir, {});
    expect(missingKey.code).toBe(78);
    expect(missingKey.stderr).toContain('SECRET_KEY is not set');
    const noFile = wrapper([], ws.dir, { ENV_FILE: path.join(ws.dir, 'nope.env') });
    expect(noFile.code).toBe(78);
    expect(noFile.stderr).toContain('does not exist');
  });

  it('--help works on every command and --version prints the version', () => {
    const ws = workspace({ withSample: false });
    for (const command of ['migrate', 'plan', 'verify', 'backup', 'backups', 'restore', 'sample']) {
      const run = dbshift([command, '--help'], { cwd: ws.dir });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: dbshift ${command}`);
    }
    const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
    expect(dbshift(['--version'], { cwd: ws.dir }).stdout.trim()).toBe(version);
    expect(dbshift(['migrate', '--no-such-flag'], { cwd: ws.dir }).code).toBe(64);
  });

  it('sample is deterministic for a seed and reports what it planted', () => {
    const ws = workspace({ withSample: false });
    const a = json<{ anomalies: Record<string, number>; rows: Record<string, number> }>(dbshift(['sample', '--out', 'a.db', '--reports', '500', '--messy', '--seed', '9', '--json'], { cwd: ws.dir, env: ws.env }));
    dbshift(['sample', '--out', 'b.db', '--reports', '500', '--messy', '--seed', '9', '--json'], { cwd: ws.dir, env: ws.env });
    expect(fs.readFileSync(path.join(ws.dir, 'a.db')).equals(fs.readFileSync(path.join(ws.dir, 'b.db')))).toBe(true);
    expect(a.rows.report).toBe(500);
    expect(a.anomalies['report.orphaned']).toBeGreaterThan(0);
    expect(dbshift(['sample', '--out', 'a.db'], { cwd: ws.dir, env: ws.env }).code).toBe(73);
  });

  it('acceptance: a --messy sample of 100,000 reports migrates with the planted warnings', () => {
    const ws = workspace({ reports: 100_000, messy: true, seed: 5 });
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stdout.slice(0, 2000)).toBe(0);
    const result = json<{ warnings: Array<{ code: string; table: string; count: number }>; checks: Array<{ ok: boolean }> }>(run);
    expect(Object.fromEntries(result.warnings.map((w) => [`${w.code}/${w.table}`, w.count]))).toEqual(ws.sample!.expectedWarnings);
    expect(result.checks.every((c) => c.ok)).toBe(true);
  }, 180_000);

  it('migrate in a versioned project says what the user probably meant (up), before asking for SECRET_KEY', () => {
    const ws = workspace({ withSample: false });
    fs.mkdirSync(path.join(ws.dir, 'migrations'));
    fs.writeFileSync(path.join(ws.dir, 'migrations', '000001_init.up.sql'), 'CREATE TABLE t (id INTEGER PRIMARY KEY);\n');
    fs.writeFileSync(path.join(ws.dir, 'migrations', '000001_init.down.sql'), 'DROP TABLE t;\n');
    const run = dbshift(['migrate'], { cwd: ws.dir, env: {} });
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('dbshift up');
    expect(run.stderr).not.toContain('SECRET_KEY is not set');
    expect(listDir(ws.dir)).toEqual(['migrations']);
    // With a HealthSum source named, migrate is migrate.
    makeSample(ws, ws.old, { reports: 20 });
    expect(dbshift(['migrate'], { cwd: ws.dir, env: ws.env }).code).toBe(0);
  });
});
