import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

// What `npm install` gives a user (issue 14.5): the package is built by prepack in a fresh
// clone, holds dist/ and what runs, nothing of the repository's development, and its bin works.

interface LockEntry {
  version?: string;
  dev?: boolean;
  [key: string]: unknown;
}

/** A clean checkout of the working tree: tracked and new files, nothing ignored (no dist/). */
function freshClone(): string {
  const dir = path.join(tempDir(), 'dbshift');
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    const stat = fs.lstatSync(path.join(ROOT, file), { throwIfNoEntry: false });
    if (!stat?.isFile()) continue;
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
  }
  // The build tools come from the project's own install (no network in tests).
  fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(dir, 'node_modules'));
  return dir;
}

describe('the npm package', () => {
  it('npm pack in a fresh clone builds dist/ and ships only what runs; installed into an empty directory, npx dbshift works', () => {
    const clone = freshClone();
    expect(fs.existsSync(path.join(clone, 'dist'))).toBe(false);
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--silent'], { cwd: clone, encoding: 'utf8' })) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = packed[0]!.files.map((f) => f.path);
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('README.md');
    expect(files).toContain('scripts/migrate_db_with_env.sh');
    const tops = [...new Set(files.map((f) => f.split('/')[0]))].sort();
    for (const dev of ['src', 'test', '.ci', 'bench', 'vitest.config.ts', 'tsconfig.json', 'package-lock.json']) expect(tops).not.toContain(dev);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);

    // An app that depends on the tarball, locked to the versions dbshift is tested with, so that
    // `npm ci --offline` installs from the npm cache alone (filled by the project's own `npm ci`).
    const app = tempDir();
    const tarball = path.join(app, packed[0]!.filename);
    fs.renameSync(path.join(clone, packed[0]!.filename), tarball);
    const project = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; bin: Record<string, string>; engines: Record<string, string>; license: string };
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    const spec = `file:${path.basename(tarball)}`;
    const packages: Record<string, LockEntry> = {
      '': { name: 'app', dependencies: { dbshift: spec } },
      'node_modules/dbshift': {
        version: project.version,
        resolved: spec,
        integrity: `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`,
        license: project.license,
        dependencies: project.dependencies,
        bin: project.bin,
        engines: project.engines,
      },
    };
    for (const [where, entry] of Object.entries(lock.packages)) if (where.startsWith('node_modules/') && !entry.dev) packages[where] = entry;
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, dependencies: { dbshift: spec } }));
    fs.writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify({ name: 'app', lockfileVersion: 3, requires: true, packages }));
    // --ignore-scripts: better-sqlite3's native build is npm's business, not the package's contents.
    const install = spawnSync('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: app, encoding: 'utf8' });
    expect(install.status, install.stderr).toBe(0);
    const version = spawnSync('npx', ['--offline', '--no-install', 'dbshift', '--version'], { cwd: app, encoding: 'utf8' });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(project.version);
    const help = spawnSync('npx', ['--offline', '--no-install', 'dbshift', 'up', '--help'], { cwd: app, encoding: 'utf8' });
    expect(help.stdout).toContain('Usage: dbshift up');
  }, 180_000);
});

describe('the demo', () => {
  it('ends with hints that run exactly as printed and show the backup', () => {
    const cwd = tempDir();
    const demoDir = path.join(cwd, 'demo');
    const demo = spawnSync(process.execPath, [path.join(ROOT, 'scripts/demo.mjs')], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DBSHIFT_DEMO_DIR: demoDir } });
    expect(demo.status, demo.stderr).toBe(0);
    const hint = demo.stdout.split('\n').find((line) => /^\s+cd .* backups$/.test(line));
    expect(hint, demo.stdout.slice(-800)).toBeDefined();
    const backups = spawnSync('bash', ['-c', hint!.trim()], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } });
    expect(backups.status, backups.stderr).toBe(0);
    expect(backups.stdout).toMatch(/health_records_backup_\d{8}_\d{6}\.db/);
    expect(backups.stdout).toContain('checksum ok');
  }, 120_000);
});
