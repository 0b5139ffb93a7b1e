// `node bench/engine.mjs [--quick] [--runs N] [--no-pg] [--only trivial,large,chain,at-999,version,rss] [--out docs/performance-engine.json]`
//
// The versioned engine's cost (issue 18), side by side in one run, alternating sides, medians:
//   sqlite/pg  trivial   one CREATE TABLE on an empty database vs beside a 3,000,000-row table (target <= 1.5x)
//   sqlite     large     the same on the multi-GB HealthSum sample (`dbshift sample`, cached) (target <= +1 s)
//   sqlite/pg  chain     1,000 small migrations (500 tables) vs the real dbmate (target <= 1.5x)
//   sqlite/pg  at-999    one migration onto a database at 999 vs dbmate (target <= 2x)
//   sqlite/pg  version   `version` on 1,000 applied vs `dbmate status` (target <= 2x)
//   sqlite     rss       peak RSS of `up` over 1,000 migrations (/usr/bin/time -v) (target <= 150 MB)
// Nothing is backed up on either side (--no-backup; dbmate takes none). PostgreSQL runs on a
// throwaway cluster (initdb + pg_ctl in a temp dir, unprivileged when root, fsync off for both
// tools, so the per-migration overhead is not hidden behind fsync). Prints a table and writes
// it as JSON for docs/performance.md.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist/cli/main.js');
const dbmate = path.join(root, 'node_modules/.bin/dbmate');
const quick = process.argv.includes('--quick');
const withPg = !process.argv.includes('--no-pg');
const option = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const runs = Number(option('runs', quick ? '1' : '3'));
/** Which rows to measure (default: all); `--only chain,at-999,version` needs no multi-GB sample. */
const only = option('only', undefined)?.split(',');
const wanted = (row) => !only || only.includes(row);
const chainLength = Number(option('migrations', quick ? '200' : '1000'));
const bigRows = Number(option('big-rows', quick ? '300000' : '3000000'));
const sampleReports = Number(option('sample-reports', quick ? '20000' : '1000000'));
const sampleKib = Number(option('sample-kib', '3'));
const cacheDir = path.resolve(option('cache', path.join(root, '.bench')));
const outFile = path.resolve(option('out', path.join(cacheDir, 'engine-results.json')));

for (const file of [cli, dbmate]) {
  if (!fs.existsSync(file)) {
    console.error(`bench: ${file} is missing (npm run build; dbmate is a dev dependency).`);
    process.exit(78);
  }
}
fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dbshift-bench-engine-'));
const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/**
 * Run a command; `ms` is its wall time and `cpuMs` its CPU time (user + system, children
 * included, from /usr/bin/time): on a loaded machine wall times swing with the load, CPU times
 * much less, so the bench reports both.
 */
function run(command, args, options = {}) {
  const started = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', 'BENCHTIME %U %S', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, env, ...options });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}\n${result.stdout.slice(0, 2000)}`);
  const [, user, sys] = /BENCHTIME ([\d.]+) ([\d.]+)\s*$/.exec(result.stderr) ?? [];
  const time = Object.assign(new Number(ms), { cpuMs: (Number(user) + Number(sys)) * 1000 });
  return { ms: time, cpuMs: time.cpuMs, stdout: result.stdout, stderr: result.stderr };
}
const dbshift = (args, options) => run(process.execPath, [cli, ...args], options);

/**
 * Alternate the sides `runs` times (rotating who goes first), each after its untimed `reset`.
 * Returns per side the median wall ms (a Number) carrying `cpuMs`, the median CPU ms.
 */
function sideBySide(sides) {
  const times = sides.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (k + r) % sides.length;
      sides[i].reset?.();
      times[i].push(sides[i].timed());
    }
  }
  return times.map((t) => Object.assign(new Number(median(t.map(Number))), { cpuMs: median(t.map((x) => x.cpuMs ?? Number(x))) }));
}
const cpuRatio = (a, b) => a.cpuMs / b.cpuMs;

// ---- migrations, in both tools' formats -----------------------------------------------------

/** Migration i of the chain: odd ones create a table, even ones put a row into the table before. */
function chainStep(i) {
  const t = `t${Math.ceil(i / 2)}`;
  return i % 2 === 1
    ? { up: `CREATE TABLE ${t} (id INTEGER PRIMARY KEY, name TEXT);`, down: `DROP TABLE ${t};` }
    : { up: `INSERT INTO ${t} (id, name) VALUES (1, 'row');`, down: `DELETE FROM ${t} WHERE id = 1;` };
}

function writeChain(dir, count, format) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 1; i <= count; i++) {
    const { up, down } = chainStep(i);
    const name = `${String(i).padStart(6, '0')}_step${i}`;
    if (format === 'dbmate') fs.writeFileSync(path.join(dir, `${name}.sql`), `-- migrate:up\n${up}\n\n-- migrate:down\n${down}\n`);
    else {
      fs.writeFileSync(path.join(dir, `${name}.up.sql`), `${up}\n`);
      fs.writeFileSync(path.join(dir, `${name}.down.sql`), `${down}\n`);
    }
  }
  return dir;
}

const trivialDir = path.join(work, 'trivial');
fs.mkdirSync(trivialDir);
fs.writeFileSync(path.join(trivialDir, '000001_x.up.sql'), 'CREATE TABLE x (id INTEGER PRIMARY KEY);\n');
fs.writeFileSync(path.join(trivialDir, '000001_x.down.sql'), 'DROP TABLE x;\n');
const chain = { dbshift: writeChain(path.join(work, 'chain'), chainLength, 'dbshift'), dbmate: writeChain(path.join(work, 'chain-dbmate'), chainLength, 'dbmate') };
const upTo = (n) => ({ dbshift: writeChain(path.join(work, `chain-${n}`), n, 'dbshift'), dbmate: writeChain(path.join(work, `chain-dbmate-${n}`), n, 'dbmate') });

const results = { date: new Date().toISOString(), quick, runs, chainLength, bigRows, dbmate: run(dbmate, ['--version']).stdout.trim(), load: os.loadavg().map((l) => l.toFixed(1)).join(' '), rows: [] };
function record(engine, work, target, measured) {
  results.rows.push({ engine, work, target, ...measured });
  const line = Object.entries(measured).map(([k, v]) => `${k} ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(2)) : v}`).join(', ');
  console.log(`${engine.padEnd(7)} ${work.padEnd(44)} ${line}   (target ${target})`);
}

// ---- SQLite ---------------------------------------------------------------------------------

const sqliteTool = (dir, db) => ({
  up: () => dbshift(['up', '--database', db, '--dir', dir, '--no-backup'], { cwd: work }).ms,
  down: () => dbshift(['down', '--all', '--database', db, '--dir', dir, '--no-backup'], { cwd: work }),
});

function sqliteWithBigTable(file, rows) {
  if (fs.existsSync(file)) return file;
  const partial = `${file}.partial`;
  fs.rmSync(partial, { force: true });
  run('sqlite3', [partial, `PRAGMA journal_mode=OFF; CREATE TABLE big (id INTEGER PRIMARY KEY, payload TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows}) INSERT INTO big SELECT i, hex(randomblob(16)) FROM n;`]);
  fs.renameSync(partial, file);
  return file;
}

function cachedSample() {
  const file = path.join(cacheDir, 'samples', `reports-${sampleReports}-kib${sampleKib}-seed1.db`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const partial = `${file}.partial`;
  fs.rmSync(partial, { force: true });
  process.stderr.write(`bench: writing sample ${path.basename(file)} (once; cached in ${cacheDir})…\n`);
  dbshift(['sample', '--out', partial, '--reports', String(sampleReports), '--report-kib', String(sampleKib), '--seed', '1'], { env: { ...env, SECRET_KEY: 'dbshift-bench-key' } });
  fs.renameSync(partial, file);
  return file;
}

/** A trivial migration applied (timed) and reverted (untimed) on each database in turn. */
function trivialOn(targets) {
  return sideBySide(targets.map((t) => ({ timed: () => { const ms = t.up(); t.down(); return ms; } })));
}

function benchSqlite() {
  const empty = path.join(work, 'empty.db');
  const beside = path.join(work, 'big.db');
  if (wanted('trivial')) fs.copyFileSync(sqliteWithBigTable(path.join(cacheDir, `sqlite-big-${bigRows}.db`), bigRows), beside);
  run('sqlite3', [empty, 'CREATE TABLE seed (id INTEGER PRIMARY KEY); DROP TABLE seed;']);
  if (wanted('trivial')) {
  const [onEmpty, onBig] = trivialOn([sqliteTool(trivialDir, empty), sqliteTool(trivialDir, beside)]);
  record('sqlite', `trivial beside a ${bigRows.toLocaleString('en')}-row table`, '<= 1.5x empty', { emptyS: onEmpty / 1000, besideS: onBig / 1000, ratio: onBig / onEmpty, cpuRatio: cpuRatio(onBig, onEmpty) });

  }
  if (wanted('large')) {
  const sample = cachedSample();
  const sampleSize = fs.statSync(sample).size;
  // The sample itself is migrated and reverted in place (untimed down): no multi-GB copy per run.
  run('cat', [sample], { stdio: ['ignore', 'ignore', 'ignore'] });
  const [emptyAgain, onSample] = trivialOn([sqliteTool(trivialDir, empty), sqliteTool(trivialDir, sample)]);
  record('sqlite', `trivial on the ${(sampleSize / 1e9).toFixed(1)} GB HealthSum sample`, '<= +1 s', { emptyS: emptyAgain / 1000, sampleS: onSample / 1000, extraS: (onSample - emptyAgain) / 1000, extraCpuS: (onSample.cpuMs - emptyAgain.cpuMs) / 1000 });
  }

  const ours = path.join(work, 'chain.db');
  const theirs = path.join(work, 'chain-dbmate.db');
  if (wanted('chain')) {
  const [a, b] = sideBySide([
    { reset: () => fs.rmSync(ours, { force: true }), timed: () => dbshift(['up', '--create', '--database', ours, '--dir', chain.dbshift, '--no-backup'], { cwd: work }).ms },
    { reset: () => fs.rmSync(theirs, { force: true }), timed: () => run(dbmate, ['--url', `sqlite:${theirs}`, '--migrations-dir', chain.dbmate, '--no-dump-schema', 'up']).ms },
  ]);
  record('sqlite', `${chainLength} small migrations`, '<= 1.5x dbmate', { dbshiftS: a / 1000, dbmateS: b / 1000, ratio: a / b, cpuRatio: cpuRatio(a, b) });
  }
  if (wanted('at-999') || wanted('version')) {

  const before = upTo(chainLength - 1);
  const at999 = { ours: path.join(work, 'at999.db'), theirs: path.join(work, 'at999-dbmate.db') };
  dbshift(['up', '--create', '--database', at999.ours, '--dir', before.dbshift, '--no-backup'], { cwd: work });
  run(dbmate, ['--url', `sqlite:${at999.theirs}`, '--migrations-dir', before.dbmate, '--no-dump-schema', 'up']);
  const scratch = { ours: path.join(work, 'at999-run.db'), theirs: path.join(work, 'at999-dbmate-run.db') };
  const [c, d] = sideBySide([
    { reset: () => fs.copyFileSync(at999.ours, scratch.ours), timed: () => dbshift(['up', '--database', scratch.ours, '--dir', chain.dbshift, '--no-backup'], { cwd: work }).ms },
    { reset: () => fs.copyFileSync(at999.theirs, scratch.theirs), timed: () => run(dbmate, ['--url', `sqlite:${scratch.theirs}`, '--migrations-dir', chain.dbmate, '--no-dump-schema', 'up']).ms },
  ]);
  if (wanted('at-999')) record('sqlite', `one migration onto a database at ${chainLength - 1}`, '<= 2x dbmate', { dbshiftS: c / 1000, dbmateS: d / 1000, ratio: c / d, cpuRatio: cpuRatio(c, d) });
  if (wanted('version')) {
  const [e, f] = sideBySide([
    { timed: () => dbshift(['version', '--database', scratch.ours, '--dir', chain.dbshift], { cwd: work }).ms },
    { timed: () => run(dbmate, ['--url', `sqlite:${scratch.theirs}`, '--migrations-dir', chain.dbmate, 'status']).ms },
  ]);
  record('sqlite', `version on ${chainLength} applied (dbmate status)`, '<= 2x dbmate', { dbshiftS: e / 1000, dbmateS: f / 1000, ratio: e / f, cpuRatio: cpuRatio(e, f) });
  }
  }

  if (!wanted('rss')) return;
  fs.rmSync(ours, { force: true });
  const timed = run('/usr/bin/time', ['-v', process.execPath, cli, 'up', '--create', '--database', ours, '--dir', chain.dbshift, '--no-backup'], { cwd: work });
  const kib = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(timed.stderr)?.[1] ?? NaN);
  record('sqlite', `peak RSS of up over ${chainLength} migrations`, '<= 150 MB', { peakMB: kib / 1024 });
}

// ---- PostgreSQL -----------------------------------------------------------------------------

function pgBin() {
  const rootDir = '/usr/lib/postgresql';
  const found = fs.existsSync(rootDir) ? fs.readdirSync(rootDir).sort((x, y) => Number(y) - Number(x)).map((v) => path.join(rootDir, v, 'bin')).find((d) => fs.existsSync(path.join(d, 'initdb'))) : undefined;
  if (!found) throw new Error('bench: PostgreSQL (initdb, pg_ctl) is missing; pass --no-pg to skip it.');
  return found;
}

/** A throwaway cluster on a free port, as test/support/pg-cluster.ts starts it (as postgres/nobody when root). */
function startCluster() {
  const bin = pgBin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbshift-bench-pg-'));
  let user;
  if (process.getuid?.() === 0) {
    user = ['postgres', 'nobody'].find((u) => spawnSync('id', ['-u', u]).status === 0);
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    fs.chownSync(dir, uid, gid);
  }
  const as = (file, args) => (user ? run('runuser', ['-u', user, '--', file, ...args], { cwd: '/' }) : run(file, args, { cwd: '/' }));
  const port = 20000 + Math.floor(Math.random() * 20000);
  as(path.join(bin, 'initdb'), ['-D', path.join(dir, 'data'), '-U', 'bench', '--auth=trust', '-E', 'UTF8']);
  as(path.join(bin, 'pg_ctl'), ['-D', path.join(dir, 'data'), '-l', path.join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`, 'start']);
  return { url: (db) => `postgres://bench@127.0.0.1:${port}/${db}?sslmode=disable`, stop: () => as(path.join(bin, 'pg_ctl'), ['-D', path.join(dir, 'data'), '-m', 'immediate', 'stop']), dir };
}

function benchPg() {
  const cluster = startCluster();
  const psql = (db, sql) => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', cluster.url(db), '-c', sql]);
  try {
    psql('postgres', 'CREATE DATABASE empty');
    psql('postgres', 'CREATE DATABASE beside');
    if (wanted('trivial')) psql('beside', `CREATE TABLE big (id bigint PRIMARY KEY, payload text); INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, ${bigRows}) g; ANALYZE big;`);
    const tool = (db) => ({
      up: () => dbshift(['up', '--database', cluster.url(db), '--dir', trivialDir, '--no-backup'], { cwd: work }).ms,
      down: () => dbshift(['down', '--all', '--database', cluster.url(db), '--dir', trivialDir, '--no-backup'], { cwd: work }),
    });
    if (wanted('trivial')) {
      const [onEmpty, onBig] = trivialOn([tool('empty'), tool('beside')]);
      record('pg', `trivial beside a ${bigRows.toLocaleString('en')}-row table`, '<= 1.5x empty', { emptyS: onEmpty / 1000, besideS: onBig / 1000, ratio: onBig / onEmpty, cpuRatio: cpuRatio(onBig, onEmpty) });
    }

    let n = 0;
    const fresh = () => {
      n++;
      psql('postgres', `CREATE DATABASE c${n}`);
      return `c${n}`;
    };
    let ours;
    let theirs;
    if (wanted('chain')) {
    const [a, b] = sideBySide([
      { reset: () => (ours = fresh()), timed: () => dbshift(['up', '--database', cluster.url(ours), '--dir', chain.dbshift, '--no-backup'], { cwd: work }).ms },
      { reset: () => (theirs = fresh()), timed: () => run(dbmate, ['--url', cluster.url(theirs), '--migrations-dir', chain.dbmate, '--no-dump-schema', 'up']).ms },
    ]);
    record('pg', `${chainLength} small migrations`, '<= 1.5x dbmate', { dbshiftS: a / 1000, dbmateS: b / 1000, ratio: a / b, cpuRatio: cpuRatio(a, b) });
    }
    if (!wanted('at-999') && !wanted('version')) return;

    const before = upTo(chainLength - 1);
    psql('postgres', 'CREATE DATABASE t999');
    psql('postgres', 'CREATE DATABASE t999m');
    dbshift(['up', '--database', cluster.url('t999'), '--dir', before.dbshift, '--no-backup'], { cwd: work });
    run(dbmate, ['--url', cluster.url('t999m'), '--migrations-dir', before.dbmate, '--no-dump-schema', 'up']);
    const copy = (template) => {
      n++;
      psql('postgres', `CREATE DATABASE c${n} TEMPLATE ${template}`);
      return `c${n}`;
    };
    const [c, d] = sideBySide([
      { reset: () => (ours = copy('t999')), timed: () => dbshift(['up', '--database', cluster.url(ours), '--dir', chain.dbshift, '--no-backup'], { cwd: work }).ms },
      { reset: () => (theirs = copy('t999m')), timed: () => run(dbmate, ['--url', cluster.url(theirs), '--migrations-dir', chain.dbmate, '--no-dump-schema', 'up']).ms },
    ]);
    if (wanted('at-999')) record('pg', `one migration onto a database at ${chainLength - 1}`, '<= 2x dbmate', { dbshiftS: c / 1000, dbmateS: d / 1000, ratio: c / d, cpuRatio: cpuRatio(c, d) });
    if (!wanted('version')) return;
    const [e, f] = sideBySide([
      { timed: () => dbshift(['version', '--database', cluster.url(ours), '--dir', chain.dbshift], { cwd: work }).ms },
      { timed: () => run(dbmate, ['--url', cluster.url(theirs), '--migrations-dir', chain.dbmate, 'status']).ms },
    ]);
    record('pg', `version on ${chainLength} applied (dbmate status)`, '<= 2x dbmate', { dbshiftS: e / 1000, dbmateS: f / 1000, ratio: e / f, cpuRatio: cpuRatio(e, f) });
  } finally {
    cluster.stop();
    fs.rmSync(cluster.dir, { recursive: true, force: true });
  }
}

try {
  console.log(`dbshift engine bench: ${runs} run(s) per side, medians; ${results.dbmate}; load ${results.load}`);
  benchSqlite();
  if (withPg) benchPg();
  results.loadAfter = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  fs.writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`load after ${results.loadAfter}; results in ${outFile}`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
