// `npm run bench -- --section package [--runs 21]` (or `npm run bench:package`)
//
// What a user gets from `npm install dbshift` (issue 23): packs the project (prepack builds it),
// installs the tarball into an empty app from npm's cache (--prefer-offline; better-sqlite3's
// install script is skipped and the project's compiled binding copied in, as
// test/support/pack.ts does, so no compiler runs), then reports
//   - the installed size of node_modules (bytes on disk, `du`) and how many packages it holds,
//     against the target of 70 MB;
//   - the start-up cost of `dbshift --version` against `node -e 0`: both run alternately, one
//     after the other, --runs times each; medians and their ratio, against the target of 2x.
// Alternating the two keeps the machine's load, which varies, out of the ratio.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}
const runs = Number(option('runs', '21'));
const SIZE_TARGET = 70 * 1000 * 1000;
const START_TARGET = 2;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

function timeOnce(args, cwd) {
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (run.status !== 0) throw new Error(`${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return ms;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dbshift-bench-package-'));
try {
  // 1. The tarball, as `npm publish` would make it.
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' }))[0];
  const tarball = path.join(work, packed.filename);

  // 2. An empty app installs it.
  const app = path.join(work, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }, null, 2));
  const install = spawnSync('npm', ['install', tarball, '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel', 'error'], { cwd: app, encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`npm install failed:\n${install.stderr}`);
  const binding = path.join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  fs.mkdirSync(path.dirname(path.join(app, binding)), { recursive: true });
  fs.copyFileSync(path.join(root, binding), path.join(app, binding));

  const bytes = Number(execFileSync('du', ['-sB1', path.join(app, 'node_modules')], { encoding: 'utf8' }).split('\t')[0]);
  const lock = JSON.parse(fs.readFileSync(path.join(app, 'package-lock.json'), 'utf8'));
  const packages = Object.keys(lock.packages).filter((p) => p.startsWith('node_modules/'));
  const biggest = fs
    .readdirSync(path.join(app, 'node_modules'))
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) => (name.startsWith('@') ? fs.readdirSync(path.join(app, 'node_modules', name)).map((n) => `${name}/${n}`) : [name]))
    .map((name) => ({ name, bytes: Number(execFileSync('du', ['-sB1', path.join(app, 'node_modules', name)], { encoding: 'utf8' }).split('\t')[0]) }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 5);

  // 3. Start-up: `dbshift --version` against `node -e 0`, alternating.
  const cli = path.join(app, 'node_modules', 'dbshift', 'dist', 'cli', 'main.js');
  const bare = [];
  const version = [];
  timeOnce(['-e', '0'], app); // warm the file cache for both before measuring
  timeOnce([cli, '--version'], app);
  for (let i = 0; i < runs; i++) {
    bare.push(timeOnce(['-e', '0'], app));
    version.push(timeOnce([cli, '--version'], app));
  }
  const ratio = median(version) / median(bare);

  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`## The package (bench/package.mjs), load ${load}, ${os.cpus().length} cores`);
  console.log('');
  console.log('| measure | value | target |');
  console.log('| --- | --- | --- |');
  console.log(`| tarball | ${mb(packed.size)} packed, ${mb(packed.unpackedSize)} unpacked, ${packed.entryCount} files | |`);
  console.log(`| installed into an empty app | ${mb(bytes)} in ${packages.length} packages | ≤ ${mb(SIZE_TARGET)}: ${bytes <= SIZE_TARGET ? 'met' : 'MISSED'} |`);
  console.log(`| \`node -e 0\` | median ${median(bare).toFixed(1)} ms (${runs} runs) | |`);
  console.log(`| \`dbshift --version\` | median ${median(version).toFixed(1)} ms (${runs} runs, alternating) | |`);
  console.log(`| ratio | ${ratio.toFixed(2)}x | ≤ ${START_TARGET}x: ${ratio <= START_TARGET ? 'met' : 'MISSED'} |`);
  console.log('');
  console.log(`Largest installed packages: ${biggest.map((b) => `${b.name} ${mb(b.bytes)}`).join(', ')}.`);
  if (process.argv.includes('--json')) console.log(JSON.stringify({ bytes, packages: packages.length, bareMs: median(bare), versionMs: median(version), ratio }));
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
