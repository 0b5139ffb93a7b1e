// `npm run bench -- --section v5 [--reports 10000,100000,1000000] [--runs 3] [--report-kib 3]`
//
// For each size, on a cached `dbshift sample` database, measures in rotating order
//   (a) `dbshift migrate` end to end (preflight, lock, snapshot, build, backup, verify, publish) on
//       the maintenance window's own layout: SOURCE_DB is the live file instance/health_records.db
//       (a hard link to the cached sample, which dbshift never writes), so the old file becomes
//       the backup at publish; `--route copy` measures the copy route (`--backup copy`) instead,
//   (b) the floor: `cp` of the file plus bench/v5-transform.sql in the sqlite3 CLI (journal_mode=OFF),
//       and the durable floor: the same plus an fsync of the result,
//   (c) the operator guide's way (bench/operator-guide.py: cp + fsync of a backup, cp, the original
//       script's ALTERs and per-report UPDATEs, fsync of the result),
// then prints per-step times, totals, the ratios against the durable floor and the guide's way
// (min/median/max), the build against the floor's SQL, the peak RSS of (a) and the bytes it wrote
// (write_bytes of the process and its children, from getrusage's ru_oublock via /usr/bin/time %O)
// against the size of the result, and the machine's load
// (`uptime`) while it ran, and writes the tables into docs/performance.md with an SVG chart.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist/cli/main.js');
const floorSql = path.join(root, 'bench/v5-transform.sql');
const guideScript = path.join(root, 'bench/operator-guide.py');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}
const sizes = option('reports', '10000,100000,1000000').split(',').map((s) => Number(s.replaceAll('_', '')));
const runs = Number(option('runs', '3'));
const reportKib = Number(option('report-kib', '3'));
const cacheDir = path.resolve(option('cache', path.join(root, '.bench')));
const outFile = path.resolve(option('out', path.join(root, 'docs/performance.md')));
const chartFile = outFile.replace(/\.md$/, '-steps.svg');
const secretKey = 'dbshift-bench-key';
const STEPS = ['preflight', 'lock', 'snapshot', 'transform', 'backup', 'verify', 'publish'];
const withGuide = !process.argv.includes('--no-guide');
const route = option('route', 'auto');

for (const tool of ['sqlite3', '/usr/bin/time', 'python3']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`bench: ${tool} is missing (apt-get install sqlite3 time).`);
    process.exit(78);
  }
}
if (!fs.existsSync(cli)) {
  console.error('bench: build first (npm run build).');
  process.exit(78);
}
fs.mkdirSync(path.join(cacheDir, 'samples'), { recursive: true, mode: 0o700 });

const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', SECRET_KEY: secretKey };
const seconds = (ms) => (ms / 1000).toFixed(2);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const stats = (xs) => ({ min: Math.min(...xs), median: median(xs), max: Math.max(...xs) });

function run(command, args, options = {}) {
  const started = performance.now();
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...options });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}\n${result.stdout.slice(0, 2000)}`);
  return { ms, stdout: result.stdout, stderr: result.stderr };
}

function cachedSample(reports) {
  const file = path.join(cacheDir, 'samples', `reports-${reports}-kib${reportKib}-seed1.db`);
  if (!fs.existsSync(file)) {
    const partial = `${file}.partial`;
    fs.rmSync(partial, { force: true });
    process.stderr.write(`bench: writing sample ${path.basename(file)}…\n`);
    run(process.execPath, [cli, 'sample', '--out', partial, '--reports', String(reports), '--report-kib', String(reportKib), '--seed', '1'], { env });
    fs.renameSync(partial, file);
  }
  return file;
}

function measureDbshift(sample, scratch) {
  const dir = fs.mkdtempSync(path.join(scratch, 'dbshift-'));
  try {
    const instance = path.join(dir, 'instance');
    fs.mkdirSync(instance, { mode: 0o700 });
    // The live file of the maintenance window: a second name of the cached sample (no bytes copied).
    const live = path.join(instance, 'health_records.db');
    fs.linkSync(sample, live);
    const { ms, stdout, stderr } = run('/usr/bin/time', ['-f', '%M %O', process.execPath, cli, 'migrate', '--json', '--backup', route], {
      env: { ...env, SOURCE_DB: live, INSTANCE_DIR: instance, BACKUP_DIR: path.join(dir, 'backups') },
    });
    const result = JSON.parse(stdout);
    if (!result.ok) throw new Error(`migrate failed: ${result.error?.message}`);
    const steps = Object.fromEntries(result.steps.map((s) => [s.name, s.ms]));
    const [rssKib, blocksOut] = stderr.trim().split('\n').at(-1).split(' ').map(Number);
    return { ms, steps, rssKib, writtenBytes: blocksOut * 512, resultBytes: fs.statSync(live).size, route: result.backupRoute?.route ?? 'unknown' };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function measureFloor(sample, scratch) {
  const dir = fs.mkdtempSync(path.join(scratch, 'floor-'));
  try {
    const copy = path.join(dir, 'health_records.db');
    const cp = run('cp', [sample, copy]);
    const sql = run('sqlite3', [copy], { input: fs.readFileSync(floorSql, 'utf8') });
    const started = performance.now();
    const fd = fs.openSync(copy, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const syncMs = performance.now() - started;
    return { ms: cp.ms + sql.ms, durableMs: cp.ms + sql.ms + syncMs, cpMs: cp.ms, sqlMs: sql.ms, syncMs };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function measureGuide(sample, scratch) {
  const dir = fs.mkdtempSync(path.join(scratch, 'guide-'));
  try {
    return { ms: run('python3', [guideScript, sample, path.join(dir, 'backup.db'), path.join(dir, 'health_records.db')]).ms };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The 1-minute load average: other engineers share this machine's cores. */
function load() {
  return Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

const results = [];
for (const reports of sizes) {
  const sample = cachedSample(reports);
  const scratch = path.join(cacheDir, 'scratch');
  fs.mkdirSync(scratch, { recursive: true, mode: 0o700 });
  const a = [];
  const b = [];
  const c = [];
  const loads = [load()];
  // Warm the page cache once so no side pays for the first read alone.
  run('cat', [sample], { stdio: ['ignore', 'ignore', 'ignore'] });
  const sides = [() => a.push(measureDbshift(sample, scratch)), () => b.push(measureFloor(sample, scratch)), ...(withGuide ? [() => c.push(measureGuide(sample, scratch))] : [])];
  for (let i = 0; i < runs; i++) {
    // Rotate which side goes first, so no side always inherits another's dirty pages.
    for (let k = 0; k < sides.length; k++) sides[(i + k) % sides.length]();
    loads.push(load());
    process.stderr.write(
      `bench: ${reports} reports, run ${i + 1}/${runs}: dbshift ${seconds(a.at(-1).ms)} s, durable floor ${seconds(b.at(-1).durableMs)} s` +
        `${withGuide ? `, guide ${seconds(c.at(-1).ms)} s` : ''}, load ${loads.at(-1)}\n`,
    );
  }
  const rows = Math.ceil(reports / 4) + reports;
  results.push({
    reports,
    bytes: fs.statSync(sample).size,
    dbshift: stats(a.map((r) => r.ms)),
    floor: stats(b.map((r) => r.ms)),
    durable: stats(b.map((r) => r.durableMs)),
    cp: median(b.map((r) => r.cpMs)),
    sql: median(b.map((r) => r.sqlMs)),
    sync: median(b.map((r) => r.syncMs)),
    guide: withGuide ? stats(c.map((r) => r.ms)) : undefined,
    ratio: stats(a.map((r, i) => r.ms / b[i].durableMs)),
    guideRatio: withGuide ? stats(a.map((r, i) => c[i].ms / r.ms)) : undefined,
    transformRatio: stats(a.map((r, i) => r.steps.transform / b[i].sqlMs)),
    steps: Object.fromEntries(STEPS.map((s) => [s, median(a.map((r) => r.steps[s] ?? 0))])),
    rssMib: median(a.map((r) => r.rssKib)) / 1024,
    written: stats(a.map((r) => r.writtenBytes / r.resultBytes)),
    writtenMib: median(a.map((r) => r.writtenBytes)) / 1024 / 1024,
    routes: [...new Set(a.map((r) => r.route))].join(', '),
    rssMax: Math.max(...a.map((r) => r.rssKib)) / 1024,
    rowsPerSecond: rows / (median(a.map((r) => r.ms)) / 1000),
    load: { min: Math.min(...loads), max: Math.max(...loads) },
  });
}

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const range = (x, digits = 2) => `${x.min.toFixed(digits)} / ${x.median.toFixed(digits)} / ${x.max.toFixed(digits)}`;
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench -- --reports ${sizes.join(',')} --runs ${runs} --report-kib ${reportKib}${route === 'auto' ? '' : ` --route ${route}`}\` (medians of ${runs} runs in rotating order; node ${process.versions.node}; ${results.map((r) => `load ${r.load.min}–${r.load.max} at ${r.reports.toLocaleString('en-US')}`).join(', ')} on ${os.cpus().length} cores; backup route taken: ${[...new Set(results.map((r) => r.routes))].join(', ')}).`,
  '',
  '| reports | file | dbshift migrate | durable floor (cp + SQL + fsync) | dbshift / durable floor, min / median / max (target ≤ 1.6 at 100k, ≤ 1.3 at 1M) | the guide\'s way | guide / dbshift (target ≥ 3 at 1M) | bytes written / result, min / median / max (target ≤ 1.1) | build / floor SQL | peak RSS (target ≤ 150 MB) |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.reports.toLocaleString('en-US')} | ${mib(r.bytes)} | ${seconds(r.dbshift.median)} s | ${seconds(r.durable.median)} s (${seconds(r.cp)} + ${seconds(r.sql)} + ${seconds(r.sync)}) | ${range(r.ratio)} | ${r.guide ? `${seconds(r.guide.median)} s` : 'not run'} | ${r.guideRatio ? range(r.guideRatio) : '–'} | ${range(r.written, 3)} (${r.writtenMib.toFixed(0)} MiB) | ${range(r.transformRatio)} | ${r.rssMib.toFixed(0)} MiB (max ${r.rssMax.toFixed(0)}) |`,
  ),
  '',
  '| reports | ' + STEPS.map((s) => (s === 'transform' ? 'transform (build)' : s)).join(' | ') + ' |',
  '| ---: | ' + STEPS.map(() => '---:').join(' | ') + ' |',
  ...results.map((r) => `| ${r.reports.toLocaleString('en-US')} | ${STEPS.map((s) => `${seconds(r.steps[s])} s`).join(' | ')} |`),
  '',
  `![step times by size](${path.basename(chartFile)})`,
].join('\n');

console.log(table);
fs.mkdirSync(path.dirname(outFile), { recursive: true });
writeChart(results, chartFile);
const start = '<!-- bench:start -->';
const end = '<!-- bench:end -->';
const existing = fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8') : `# Performance\n\n${start}\n${end}\n`;
const updated = existing.includes(start)
  ? existing.slice(0, existing.indexOf(start) + start.length) + '\n' + table + '\n' + existing.slice(existing.indexOf(end))
  : `${existing}\n${start}\n${table}\n${end}\n`;
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, updated);
process.stderr.write(`bench: wrote ${path.relative(process.cwd(), outFile)} and ${path.relative(process.cwd(), chartFile)}\n`);

/** Stacked bars: one per size, one colour per step, seconds on the y axis. */
function writeChart(rows, file) {
  const colours = ['#4e79a7', '#a0cbe8', '#f28e2b', '#ffbe7d', '#59a14f', '#8cd17d', '#b6992d'];
  const width = 640;
  const height = 360;
  const left = 60;
  const bottom = 40;
  const top = 20;
  const barWidth = Math.min(120, (width - left - 180) / rows.length - 20);
  const maxSeconds = Math.max(...rows.map((r) => STEPS.reduce((s, k) => s + r.steps[k], 0) / 1000), 0.001);
  const y = (s) => height - bottom - (s / maxSeconds) * (height - bottom - top);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`];
  parts.push(`<line x1="${left}" y1="${y(0)}" x2="${width - 180}" y2="${y(0)}" stroke="#333"/>`);
  for (let t = 0; t <= 4; t++) {
    const s = (maxSeconds * t) / 4;
    parts.push(`<text x="${left - 8}" y="${y(s) + 4}" text-anchor="end">${s.toFixed(1)} s</text><line x1="${left}" y1="${y(s)}" x2="${width - 180}" y2="${y(s)}" stroke="#ddd"/>`);
  }
  rows.forEach((r, i) => {
    const x = left + 20 + i * (barWidth + 20);
    let acc = 0;
    STEPS.forEach((step, j) => {
      const s = r.steps[step] / 1000;
      parts.push(`<rect x="${x}" y="${y(acc + s)}" width="${barWidth}" height="${y(acc) - y(acc + s)}" fill="${colours[j]}"><title>${step}: ${s.toFixed(2)} s</title></rect>`);
      acc += s;
    });
    parts.push(`<text x="${x + barWidth / 2}" y="${height - bottom + 16}" text-anchor="middle">${r.reports.toLocaleString('en-US')} reports</text>`);
  });
  STEPS.forEach((step, j) => {
    parts.push(`<rect x="${width - 160}" y="${top + j * 20}" width="12" height="12" fill="${colours[j]}"/><text x="${width - 142}" y="${top + j * 20 + 10}">${step}</text>`);
  });
  parts.push('</svg>');
  fs.writeFileSync(file, parts.join('\n') + '\n');
}
