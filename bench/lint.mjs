#!/usr/bin/env node
// dbshift lint beside squawk 2.66 (the linter PostgreSQL teams use), standalone:
//   node bench/lint.mjs [--runs 5] [--files 512]       (npm run build first: it runs dist/cli/main.js)
// 1. The squawk corpus (test/fixtures/lint-squawk: one violating and one correct file per squawk
//    rule, each run as migration 000002 after base.sql): files each tool flags.
// 2. A chain of N small migrations: wall time and peak memory of each tool, runs alternated,
//    medians and ratios. dbshift with a server (a throwaway cluster this script starts: initdb,
//    pg_ctl) and without one.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const SQUAWK = path.join(ROOT, 'node_modules/.bin/squawk');
const CORPUS = path.join(ROOT, 'test/fixtures/lint-squawk');
const option = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const RUNS = option('runs', 5);
const FILES = option('files', 512);
const DOC = '# Overview\nThe change.\n\n## Data-loss risk\nNone.\n';

if (!fs.existsSync(CLI)) throw new Error('Run `npm run build` first: the bench runs dist/cli/main.js.');
if (!fs.existsSync(SQUAWK)) throw new Error('squawk is missing: it is a dev dependency (squawk-cli), installed by npm install.');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'dbshift-bench-lint-'));

// --- a throwaway PostgreSQL cluster ---------------------------------------------------------
function pgBin() {
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const candidates = [fromConfig.status === 0 ? fromConfig.stdout.trim() : '', ...(fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').sort((a, b) => b - a).map((v) => `/usr/lib/postgresql/${v}/bin`) : [])];
  const found = candidates.find((d) => d && fs.existsSync(path.join(d, 'initdb')));
  if (!found) throw new Error('The bench needs PostgreSQL (initdb, pg_ctl) for the with-server runs.');
  return found;
}
const freePort = () => new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
// initdb refuses root: run the server as an unprivileged user then.
const owner = process.getuid?.() === 0 ? ['postgres', 'nobody'].find((u) => spawnSync('id', ['-u', u]).status === 0) : undefined;
const asOwner = (file, args) => execFileSync(owner ? 'runuser' : file, owner ? ['-u', owner, '--', file, ...args] : args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });

async function startServer() {
  const bin = pgBin();
  const dir = path.join(scratch, 'pg');
  fs.mkdirSync(path.join(dir, 'socket'), { recursive: true });
  if (owner) for (const p of [scratch, dir, path.join(dir, 'socket')]) fs.chownSync(p, Number(execFileSync('id', ['-u', owner])), Number(execFileSync('id', ['-g', owner])));
  const port = await freePort();
  asOwner(path.join(bin, 'initdb'), ['-D', path.join(dir, 'data'), '-U', 'bench', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  asOwner(path.join(bin, 'pg_ctl'), ['-D', path.join(dir, 'data'), '-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${path.join(dir, 'socket')} -c listen_addresses='127.0.0.1' -c fsync=off`, '-w', 'start']);
  return { url: `postgres://bench@127.0.0.1:${port}/postgres`, stop: () => asOwner(path.join(bin, 'pg_ctl'), ['-D', path.join(dir, 'data'), '-m', 'immediate', '-w', 'stop']) };
}

// --- running the tools -------------------------------------------------------------------------
/** Wall time (s) and peak RSS (MB) of one command, from GNU time. */
function measured(command, args, cwd) {
  const report = path.join(scratch, 'time.txt');
  const run = spawnSync('/usr/bin/time', ['-o', report, '-f', '%e %M', command, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const [seconds, kb] = fs.readFileSync(report, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  return { seconds, mb: kb / 1024, status: run.status, stdout: run.stdout, stderr: run.stderr };
}
const dbshiftLint = (dir, url) => ['node', [CLI, 'lint', '--dialect', 'postgres', '--dir', dir, '--json', ...(url ? ['--database', url] : [])]];

function writeChain(dir, files) {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

// --- 1. the corpus -----------------------------------------------------------------------------
async function corpus(url) {
  // In this process, through the library: the corpus is about what is found, not how fast.
  const { lint } = await import(path.join(ROOT, 'dist/index.js'));
  const base = fs.readFileSync(path.join(CORPUS, 'base.sql'), 'utf8');
  const rules = fs.readdirSync(CORPUS).filter((f) => fs.statSync(path.join(CORPUS, f)).isDirectory()).sort();
  const cases = rules.flatMap((rule) => ['bad', 'good'].map((kind) => ({ rule, kind, file: path.join(CORPUS, rule, `${kind}.sql`) })));
  // squawk: every case file in one run, findings grouped by file.
  const squawk = spawnSync(SQUAWK, ['--reporter', 'json', ...cases.map((c) => c.file)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const squawkByFile = new Map();
  for (const v of JSON.parse(squawk.stdout || '[]')) squawkByFile.set(path.resolve(v.file), [...(squawkByFile.get(path.resolve(v.file)) ?? []), v.rule_name]);
  // dbshift: each case as 000002 after the base, one lint (with the server: also the replay).
  // An opt-in rule (off by default: dbshift sets lock_timeout itself) is enabled in the cases of the squawk rule it covers.
  const { PG_RULES } = await import(path.join(ROOT, 'dist/engine/drivers/postgres/lint-rules.js'));
  const optIn = (rule) => Object.entries(PG_RULES).filter(([, info]) => info.level === 'off' && (info.squawk ?? []).includes(rule)).map(([id]) => id);
  for (const c of cases) {
    const enabled = optIn(c.rule);
    const dir = writeChain(path.join(scratch, 'corpus', c.rule, c.kind), {
      '000001_base.up.sql': base, '000001_base.down.sql': '', '000001_base.md': DOC,
      '000002_case.up.sql': fs.readFileSync(c.file, 'utf8'), '000002_case.down.sql': '', '000002_case.md': DOC,
      ...(enabled.length ? { 'dbshift.lint.json': JSON.stringify({ rules: Object.fromEntries(enabled.map((id) => [id, 'error'])) }) } : {}),
    });
    const result = await lint({ dir, dialect: 'postgres', database: url });
    if (result.error && result.error.code !== 'lint-findings') throw new Error(`dbshift lint failed on ${c.rule}/${c.kind}: ${result.error.message}`);
    c.dbshift = result.findings.filter((f) => f.file === '000002_case.up.sql').map((f) => f.rule);
    c.squawk = squawkByFile.get(path.resolve(c.file)) ?? [];
  }
  const flagged = (tool, kind) => cases.filter((c) => c.kind === kind && c[tool].length > 0).length;
  const total = rules.length;
  console.log(`\n## The squawk corpus (${total} squawk 2.66 rules, a bad and a good file each; dbshift with the server's replay)\n`);
  console.log('| | squawk 2.66 | dbshift lint --dialect postgres |\n| --- | --- | --- |');
  console.log(`| violating files flagged | ${flagged('squawk', 'bad')} of ${total} | ${flagged('dbshift', 'bad')} of ${total} |`);
  console.log(`| correct files flagged | ${flagged('squawk', 'good')} of ${total} | ${flagged('dbshift', 'good')} of ${total} |`);
  const missed = cases.filter((c) => c.kind === 'bad' && c.dbshift.length === 0).map((c) => c.rule);
  const noisy = cases.filter((c) => c.kind === 'good' && c.dbshift.length > 0).map((c) => `${c.rule} (${c.dbshift.join(', ')})`);
  console.log(`\nNot flagged by dbshift (left out on purpose, docs/lint.md says why): ${missed.join(', ') || 'none'}`);
  console.log(`Correct files dbshift flags: ${noisy.join(', ') || 'none'}`);
  const squawkNoise = new Map();
  for (const c of cases.filter((c) => c.kind === 'good')) for (const r of new Set(c.squawk)) squawkNoise.set(r, (squawkNoise.get(r) ?? 0) + 1);
  console.log(`squawk on the correct files: ${[...squawkNoise].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', ')}`);
}

// --- 2. time and memory on a chain of small files ----------------------------------------------
function chainOf(n) {
  const files = {};
  for (let i = 1; i <= n; i++) {
    const v = String(i).padStart(6, '0');
    const parent = i > 1 ? `, parent_id bigint REFERENCES t${i - 1} (id) ON DELETE CASCADE` : '';
    files[`${v}_t${i}.up.sql`] = `CREATE TABLE t${i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY${parent}, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());\n${i > 1 ? `CREATE INDEX ix_t${i}_parent_id ON t${i} (parent_id);\n` : ''}`;
    files[`${v}_t${i}.down.sql`] = `DROP TABLE t${i};\n`;
    files[`${v}_t${i}.md`] = `# t${i}\n\n## Overview\nTable t${i}.\n\n## Data-loss risk\nOn down, t${i} and its rows are deleted.\n`;
  }
  return files;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The same chain with a CHECK in every table, in two kinds: length(name) < 200, which the schema
 * model vouches for (no replay), and a regular expression, which is PostgreSQL's to judge (with a
 * server, every file is replayed).
 */
function checkedChainOf(n, check) {
  const files = chainOf(n);
  for (const name of Object.keys(files)) if (name.endsWith('.up.sql')) files[name] = files[name].replace('name text NOT NULL', () => `name text NOT NULL CHECK (${check})`);
  return files;
}

function speed(url) {
  const dir = writeChain(path.join(scratch, 'chain'), chainOf(FILES));
  const checked = writeChain(path.join(scratch, 'checked'), checkedChainOf(FILES, 'length(name) < 200'));
  const regex = writeChain(path.join(scratch, 'regex'), checkedChainOf(FILES, "name ~ '^[a-z0-9 ]+$'"));
  const upFiles = fs.readdirSync(dir).filter((f) => f.endsWith('.up.sql')).sort().map((f) => path.join(dir, f));
  const tools = {
    squawk: () => measured(SQUAWK, ['--reporter', 'json', ...upFiles], dir),
    'dbshift, server': () => measured(...dbshiftLint(dir, url), ROOT),
    'dbshift, no server': () => measured(...dbshiftLint(dir), ROOT),
    'dbshift, server, CHECK (length(name) < 200) in every file (vouched, no replay)': () => measured(...dbshiftLint(checked, url), ROOT),
    "dbshift, server, CHECK (name ~ '…') in every file (all replayed)": () => measured(...dbshiftLint(regex, url), ROOT),
  };
  const samples = Object.fromEntries(Object.keys(tools).map((t) => [t, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const [name, fn] of Object.entries(tools)) {
      const m = fn();
      if (name !== 'squawk' && m.status !== 0) throw new Error(`${name} failed (exit ${m.status}): ${m.stdout.slice(0, 400)} ${m.stderr.slice(0, 400)}`);
      samples[name].push(m);
    }
  }
  const base = median(samples.squawk.map((s) => s.seconds));
  console.log(`\n## ${FILES} small migrations (a chain: CREATE TABLE with a foreign key, CREATE INDEX), ${RUNS} alternated runs, medians; load ${os.loadavg()[0].toFixed(1)}\n`);
  console.log('| tool | time (s) | vs squawk | peak memory (MB) |\n| --- | --- | --- | --- |');
  for (const [name, runs] of Object.entries(samples)) {
    const t = median(runs.map((s) => s.seconds));
    console.log(`| ${name} | ${t.toFixed(2)} | ${(t / base).toFixed(2)}x | ${median(runs.map((s) => s.mb)).toFixed(0)} |`);
  }
}

const server = await startServer();
try {
  console.log(`# dbshift lint beside squawk ${spawnSync(SQUAWK, ['--version'], { encoding: 'utf8' }).stdout.trim()}`);
  await corpus(server.url);
  speed(server.url);
} finally {
  server.stop();
  fs.rmSync(scratch, { recursive: true, force: true });
}
