import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, dbshift, type CliRun } from '../support/cli.js';
import { listDir, workspace } from '../support/fixtures.js';

// Where output goes (issue 14.3, 10.7, 9.12): the result on stdout, failures on stderr, exactly
// one JSON object with the common core under --json, and an exit code that is the data's outcome
// whatever happens to the output.

interface Core {
  ok: boolean;
  command: string;
  status: string;
  notices: string[];
  error?: { code: string; message: string; hint?: string; dataState?: string; exitCode: number };
}

function core(run: CliRun): Core {
  const parsed = JSON.parse(run.stdout) as Core;
  expect(typeof parsed.ok).toBe('boolean');
  expect(typeof parsed.command).toBe('string');
  expect(typeof parsed.status).toBe('string');
  expect(Array.isArray(parsed.notices)).toBe(true);
  if (parsed.ok) {
    expect(parsed.error).toBeUndefined();
    expect(run.code).toBe(0);
  } else {
    expect(Object.keys(parsed.error ?? {})).toEqual(expect.arrayContaining(['code', 'message', 'exitCode']));
    expect(run.code).toBe(parsed.error!.exitCode);
  }
  return parsed;
}

/** Run with stdout and stderr pipes whose reading ends are closed at once (`| head -0`). */
function withClosedPipes(args: string[], cwd: string, env: Record<string, string>): Promise<number | null> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  child.stderr.destroy();
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('stdout for the result, stderr for failures', () => {
  it('a failure in text mode reaches the terminal when stdout is redirected: reason, data state and Next on stderr', () => {
    const ws = workspace({ reports: 50 });
    const run = dbshift(['migrate'], { cwd: ws.dir, env: { ...ws.env, SECRET_KEY: undefined } });
    expect(run.code).toBe(78);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('FAILED (exit 78)');
    expect(run.stderr).toContain('SECRET_KEY is not set');
    expect(run.stderr).toContain('Nothing was changed.');
    expect(run.stderr).toContain('Next: ');
  });

  it('an unknown option prints a short error and where help is, not the whole help', () => {
    const ws = workspace({ withSample: false });
    const run = dbshift(['migrate', '--no-such-flag'], { cwd: ws.dir });
    expect(run.code).toBe(64);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain("unknown option '--no-such-flag'");
    expect(run.stderr).toContain('See: dbshift migrate --help');
    expect(run.stderr).not.toContain('Usage:');
    expect(run.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
  });

  it('SECRET_KEY missing names the .env that was read; a missing ENV_FILE is a configuration error (78)', () => {
    const ws = workspace({ reports: 50 });
    fs.writeFileSync(path.join(ws.dir, '.env'), 'DBSHIFT_BUSY_TIMEOUT_MS=500\n');
    const missing = dbshift(['plan'], { cwd: ws.dir, env: { ...ws.env, SECRET_KEY: undefined } });
    expect(missing.code).toBe(78);
    expect(missing.stderr).toContain(`dbshift read ${path.join(ws.dir, '.env')}`);

    const noFile = dbshift(['plan'], { cwd: ws.dir, env: { ...ws.env, ENV_FILE: 'nope.env' } });
    expect(noFile.code).toBe(78);
    expect(noFile.stderr).toContain('ENV_FILE=nope.env does not exist');
    const asJson = core(dbshift(['backups', '--json'], { cwd: ws.dir, env: { ...ws.env, ENV_FILE: 'nope.env' } }));
    expect([asJson.command, asJson.error?.code, asJson.error?.exitCode]).toEqual(['backups', 'env-file-missing', 78]);
  });
});

describe('--json: exactly one JSON object with the common core', () => {
  it('migrate, backups, create, up, version, lint and sample share ok/command/status/error/notices', () => {
    const ws = workspace({ reports: 50 });
    const env = { ...ws.env, DATABASE: 'app.db', MIGRATIONS_DIR: 'migrations' };
    const migrated = core(dbshift(['migrate', '--json'], { cwd: ws.dir, env }));
    expect([migrated.command, migrated.status]).toEqual(['migrate', 'migrated']);
    const listed = core(dbshift(['backups', '--json'], { cwd: ws.dir, env }));
    expect([listed.command, listed.status]).toEqual(['backups', 'listed']);
    const created = core(dbshift(['create', 'add_notes', '--json'], { cwd: ws.dir, env }));
    expect([created.command, created.status]).toEqual(['create', 'created']);
    fs.writeFileSync(path.join(ws.dir, 'migrations', '000001_add_notes.up.sql'), 'CREATE TABLE notes (id INTEGER PRIMARY KEY);\n');
    fs.writeFileSync(path.join(ws.dir, 'migrations', '000001_add_notes.down.sql'), 'DROP TABLE notes;\n');
    const up = core(dbshift(['up', '--create', '--json'], { cwd: ws.dir, env }));
    expect(up.command).toBe('up');
    const version = core(dbshift(['version', '--json'], { cwd: ws.dir, env }));
    expect(version.command).toBe('version');
    const lint = core(dbshift(['lint', '--json'], { cwd: ws.dir, env }));
    expect(lint.command).toBe('lint');
    const sample = core(dbshift(['sample', '--out', 's.db', '--reports', '10', '--json'], { cwd: ws.dir, env }));
    expect([sample.command, sample.status]).toEqual(['sample', 'sampled']);
  });

  it('a usage error is a JSON object too (up --bogus --json), and a failed run is one object with the error', () => {
    const ws = workspace({ reports: 50 });
    const usage = dbshift(['up', '--bogus', '--json'], { cwd: ws.dir });
    const parsed = core(usage);
    expect(usage.code).toBe(64);
    expect([parsed.command, parsed.error?.code]).toEqual(['up', 'usage']);
    expect(parsed.error?.message).toContain('--bogus');
    expect(parsed.error?.hint).toBe('See: dbshift up --help');
    expect(usage.stderr).toBe('');

    const failed = core(dbshift(['migrate', '--json'], { cwd: ws.dir, env: { ...ws.env, SECRET_KEY: undefined } }));
    expect([failed.ok, failed.command, failed.error?.code, failed.error?.dataState]).toEqual([false, 'migrate', 'secret-key-missing', 'Nothing was changed.']);
  });
});

describe('output that cannot be written changes neither the exit code nor the data', () => {
  it('closed pipes on stdout and stderr (`| head`): rehearse exits 0; migrate exits 0 and publishes', async () => {
    const ws = workspace({ reports: 300 });
    expect(await withClosedPipes(['migrate', '--rehearse'], ws.dir, ws.env)).toBe(0);
    expect(fs.existsSync(ws.target)).toBe(false);
    expect(await withClosedPipes(['migrate'], ws.dir, ws.env)).toBe(0);
    expect(fs.existsSync(ws.target)).toBe(true);
    expect(dbshift(['verify'], { cwd: ws.dir, env: ws.env }).code).toBe(0);
  });

  it('stdout at /dev/full after a successful publish: exit 0, no stack trace, a note on stderr', () => {
    const ws = workspace({ reports: 300 });
    const full = fs.openSync('/dev/full', 'w');
    let run;
    try {
      const child = spawn(process.execPath, [CLI, 'migrate'], { cwd: ws.dir, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...ws.env }, stdio: ['ignore', full, 'pipe'] });
      run = new Promise<{ code: number | null; stderr: string }>((resolve) => {
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code, stderr }));
      });
    } finally {
      fs.closeSync(full);
    }
    return run.then(({ code, stderr }) => {
      expect(code, stderr).toBe(0);
      expect(stderr).toContain('could not be written to stdout (ENOSPC)');
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(listDir(ws.instance)).toContain('health_records.db');
    });
  });
});
