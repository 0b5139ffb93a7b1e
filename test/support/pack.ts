import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './cli.js';

// What `npm pack` + `npm install` give a user, made offline and fast: one tarball from a clean
// checkout, installed from the npm cache alone (filled by the project's own `npm ci`) with
// the versions dbshift is tested with. better-sqlite3's native build is npm's business, not
// the package's contents: installs skip it and get the project's compiled binding instead of
// compiling it again (about 2 minutes each).

interface LockEntry {
  version?: string;
  dev?: boolean;
  [key: string]: unknown;
}

interface ProjectJson {
  version: string;
  license: string;
  dependencies: Record<string, string>;
  bin: Record<string, string>;
  engines: Record<string, string>;
}

export interface Packed {
  /** The tarball, in a directory of its own. */
  tarball: string;
  /** The paths it holds, as `npm pack --json` lists them. */
  files: string[];
  /** The clone it was packed from: it had no dist/ before `npm pack`. */
  clone: string;
}

export const project = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as ProjectJson;

/** A clean checkout of the working tree in `dir`: tracked and new files, nothing ignored (no dist/). */
function freshClone(dir: string): string {
  const clone = path.join(dir, 'dbshift');
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    const stat = fs.lstatSync(path.join(ROOT, file), { throwIfNoEntry: false });
    if (!stat?.isFile()) continue;
    fs.mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(clone, file));
  }
  // The build tools come from the project's own install (no network in tests).
  fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(clone, 'node_modules'));
  return clone;
}

/** `npm pack` in a fresh clone (prepack builds dist/ there). */
export function packFreshClone(dir: string): Packed {
  const clone = freshClone(dir);
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--silent'], { cwd: clone, encoding: 'utf8' })) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const tarball = path.join(fs.mkdtempSync(path.join(dir, 'tarball-')), packed[0]!.filename);
  fs.renameSync(path.join(clone, packed[0]!.filename), tarball);
  return { tarball, files: packed[0]!.files.map((f) => f.path), clone };
}

/**
 * Install the tarball into `app` as the dependency `dbshift` (plus the app's own devDependencies,
 * which must be among the project's locked packages), with `npm ci --offline`.
 */
export function installInto(app: string, tarball: string, appJson: Record<string, unknown> = { name: 'app', private: true }): void {
  const local = path.join(app, path.basename(tarball));
  fs.copyFileSync(tarball, local);
  const spec = `file:${path.basename(local)}`;
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const manifest = { ...appJson, dependencies: { ...(appJson.dependencies as Record<string, string> | undefined), dbshift: spec } };
  const packages: Record<string, LockEntry> = {
    '': { name: String(appJson.name ?? 'app'), dependencies: manifest.dependencies, ...(appJson.devDependencies ? { devDependencies: appJson.devDependencies } : {}) },
    'node_modules/dbshift': {
      version: project.version,
      resolved: spec,
      integrity: `sha512-${crypto.createHash('sha512').update(fs.readFileSync(local)).digest('base64')}`,
      license: project.license,
      dependencies: project.dependencies,
      bin: project.bin,
      engines: project.engines,
    },
  };
  // The app's devDependencies and what they depend on (@types/better-sqlite3 brings @types/node).
  const wanted = new Set(Object.keys((appJson.devDependencies as Record<string, string> | undefined) ?? {}).map((name) => `node_modules/${name}`));
  for (const where of wanted) {
    for (const name of Object.keys((lock.packages[where]?.dependencies as Record<string, string> | undefined) ?? {})) wanted.add(`node_modules/${name}`);
  }
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (!where.startsWith('node_modules/')) continue;
    if (!entry.dev) packages[where] = entry;
    else if (wanted.has(where)) packages[where] = { ...entry, dev: true };
  }
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  fs.writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify({ name: manifest.name ?? 'app', lockfileVersion: 3, requires: true, packages }));
  const install = spawnSync('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: app, encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`npm ci failed in ${app}:\n${install.stderr}`);
  const binding = path.join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  fs.mkdirSync(path.dirname(path.join(app, binding)), { recursive: true });
  fs.copyFileSync(path.join(ROOT, binding), path.join(app, binding));
}

/** A clean environment for an installed app's commands (no project variables leak in). */
export function appEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), ...extra };
}
