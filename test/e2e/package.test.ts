import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireInstanceLock } from '../../src/files/lock.js';
import { ROOT } from '../support/cli.js';
import { appEnv, installInto, packFreshClone, project, type Packed } from '../support/pack.js';
import { tempDir } from '../support/tmp.js';

// What `npm install` gives a user (issue 14.5): the package is built by prepack in a fresh
// clone, holds dist/ and what runs, nothing of the repository's development, and its bin works.
// As a library (issue 11): a typed import, and examples/app-start migrating at start-up.
// One tarball for the whole file; each app installs it offline (test/support/pack.ts).

let workDir: string;
let packed: Packed;
// Limits: packing (a full build), offline installs and several tsc runs take minutes on a loaded
// 2-core machine (the first test took over 180 s at load 13); a limit here only catches a hang.

beforeAll(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbshift-pack-'));
  packed = packFreshClone(workDir);
}, 600_000);

afterAll(() => {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

/** Relative links in the packed README and docs whose target the package does not hold (code blocks aside). */
function unshippedLinks(files: string[]): string[] {
  const shipped = new Set(files);
  const dirs = new Set(files.flatMap((f) => f.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
  const problems: string[] = [];
  for (const page of files.filter((f) => f.endsWith('.md'))) {
    const text = fs.readFileSync(path.join(packed.clone, page), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:|#)/.test(target!)) continue;
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(page), target!.split('#')[0]!)).replace(/\/$/, '');
      if (!shipped.has(resolved) && !dirs.has(resolved)) problems.push(`${page} -> ${target}`);
    }
  }
  expect(files.filter((f) => f.endsWith('.md')).length).toBeGreaterThan(10);
  return problems;
}

const tsc = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [path.join(cwd, 'node_modules/typescript/bin/tsc'), ...args], { cwd, encoding: 'utf8', env: appEnv() });

describe('the npm package', () => {
  it('npm pack in a fresh clone builds dist/ and ships only what runs; installed into an empty directory, npx dbshift works and `import { migrateToLatest } from \'dbshift\'` type-checks', () => {
    const files = packed.files;
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('README.md');
    expect(files).toContain('scripts/migrate_db_with_env.sh');
    const tops = [...new Set(files.map((f) => f.split('/')[0]))].sort();
    for (const dev of ['src', 'test', '.ci', 'bench', 'examples', 'vitest.config.ts', 'tsconfig.json', 'package-lock.json']) expect(tops).not.toContain(dev);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);

    // The README is a front page (issue 23), and every page it or a shipped doc links to is in the package.
    expect(fs.readFileSync(path.join(packed.clone, 'README.md'), 'utf8').split('\n').length).toBeLessThanOrEqual(300);
    expect(unshippedLinks(files)).toEqual([]);

    const app = tempDir();
    // A TypeScript app brings its own compiler and better-sqlite3's types (optional peers of dbshift).
    installInto(app, packed.tarball, { name: 'app', private: true, type: 'module', devDependencies: { typescript: '*', '@types/better-sqlite3': '*', '@types/node': '*' } });
    const version = spawnSync('npx', ['--offline', '--no-install', 'dbshift', '--version'], { cwd: app, encoding: 'utf8' });
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(project.version);
    const help = spawnSync('npx', ['--offline', '--no-install', 'dbshift', 'up', '--help'], { cwd: app, encoding: 'utf8' });
    expect(help.stdout).toContain('Usage: dbshift up');

    // The declarations themselves are checked too (skipLibCheck off), and the types bite; so
    // is the code migration `dbshift create --ext ts` writes (`import type { MigrationContext } from 'dbshift'`).
    const created = spawnSync('npx', ['--offline', '--no-install', 'dbshift', 'create', 'add_notes', '--ext', 'ts', '--dir', 'migrations'], { cwd: app, encoding: 'utf8' });
    expect(created.status, created.stderr).toBe(0);
    expect(fs.readFileSync(path.join(app, 'migrations/000001_add_notes.ts'), 'utf8')).toMatch(/^import type \{[^}]*\bMigrationContext\b[^}]*\} from 'dbshift';$/m);
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, include: ['*.ts', 'migrations/*.ts'] }));
    fs.writeFileSync(
      path.join(app, 'start.ts'),
      `import { migrateToLatest, type MigrationContext } from 'dbshift';
const result = await migrateToLatest({ database: 'app.db', dir: 'migrations', wait: 10_000 });
if (!result.ok) {
  const next: string | undefined = result.error.hint;
  const code: number = result.error.exitCode;
  console.error(next, code);
} else {
  const version: number | undefined = result.after?.version;
  console.log(result.status, version);
}
export function up(ctx: MigrationContext): void {
  ctx.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
  ctx.db.prepare('INSERT INTO t DEFAULT VALUES').run();
}
`,
    );
    const typed = tsc(app, '-p', '.');
    expect(typed.status, typed.stdout + typed.stderr).toBe(0);
    fs.writeFileSync(path.join(app, 'wrong.ts'), `import { migrateToLatest } from 'dbshift';\nawait migrateToLatest({ database: 42 });\n`);
    const wrong = tsc(app, '-p', '.');
    expect(wrong.status).not.toBe(0);
    expect(wrong.stdout).toMatch(/wrong\.ts.*TS2322/);
    fs.rmSync(path.join(app, 'wrong.ts'));

    // The public declarations compile for CommonJS consumers too (no esModuleInterop: TS1259 was the failure).
    fs.writeFileSync(path.join(app, 'tsconfig.cjs.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'CommonJS', moduleResolution: 'Node10', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['consumer.cts'] }));
    fs.writeFileSync(path.join(app, 'consumer.cts'), `import type { MigrationContext, CommandResult, DiffOptions } from 'dbshift';\nexport function up(ctx: MigrationContext): void { ctx.db.prepare('SELECT 1').get(); }\nexport type Seen = [CommandResult, DiffOptions];\n`);
    const commonjs = tsc(app, '-p', 'tsconfig.cjs.json');
    expect(commonjs.status, commonjs.stdout + commonjs.stderr).toBe(0);
  }, 600_000);
});

describe('an empty app that installs dbshift alone', () => {
  let app: string;

  beforeAll(() => {
    app = path.join(workDir, 'bare');
    fs.mkdirSync(app);
    installInto(app, packed.tarball, { name: 'bare', private: true, type: 'module' });
  }, 600_000);

  const run = (...args: string[]) => spawnSync(process.execPath, [path.join(app, 'node_modules/dbshift/dist/cli/main.js'), ...args], { cwd: app, encoding: 'utf8', env: appEnv() });

  it('gets no build tools or type packages: no typescript, no PGlite, no @types', () => {
    const installed = fs.readdirSync(path.join(app, 'node_modules'));
    for (const absent of ['typescript', '@types', '@electric-sql']) expect(installed).not.toContain(absent);
  });

  it('runs SQL migrations; a .ts migration fails with exit 78 and the install command for TypeScript', () => {
    fs.mkdirSync(path.join(app, 'sql'));
    fs.writeFileSync(path.join(app, 'sql/000001_t.up.sql'), 'CREATE TABLE t (id INTEGER PRIMARY KEY);\n');
    fs.writeFileSync(path.join(app, 'sql/000001_t.down.sql'), 'DROP TABLE t;\n');
    const sql = run('up', '--database', 'sql.db', '--dir', 'sql', '--create');
    expect(sql.status, sql.stderr).toBe(0);

    fs.mkdirSync(path.join(app, 'code'));
    fs.writeFileSync(path.join(app, 'code/000001_t.ts'), 'export function up(ctx: { exec(sql: string): void }): void { ctx.exec("CREATE TABLE t (id INTEGER)"); }\n');
    const code = run('up', '--database', 'code.db', '--dir', 'code', '--create');
    expect(code.status, code.stderr).toBe(78);
    expect(code.stderr).toContain('typescript is not installed');
    expect(code.stderr).toContain('npm install -D typescript');
    expect(code.stderr).toContain('Nothing was changed.');
    expect(fs.existsSync(path.join(app, 'code.db'))).toBe(false);
  });

  it('lint --embedded without PGlite says to install it', () => {
    fs.mkdirSync(path.join(app, 'pg'));
    // A view: a statement the parser's model cannot vouch for, so lint replays it (here: on PGlite).
    fs.writeFileSync(path.join(app, 'pg/000001_t.up.sql'), 'CREATE VIEW one AS SELECT 1 AS n;\n');
    const lint = run('lint', '--dialect', 'postgres', '--embedded', '--dir', 'pg');
    expect(lint.status, lint.stdout + lint.stderr).toBe(78);
    expect(lint.stderr).toContain('npm install -D @electric-sql/pglite');
  });
});

describe('examples/app-start, installed from the packed tarball', () => {
  let app: string;

  beforeAll(() => {
    app = path.join(workDir, 'app-start');
    fs.cpSync(path.join(ROOT, 'examples/app-start'), app, { recursive: true, filter: (from) => !/[/\\](node_modules|dist|data)$/.test(from) });
    installInto(app, packed.tarball, JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8')) as Record<string, unknown>);
  }, 600_000);

  const start = (database: string) => spawnSync(process.execPath, ['dist/src/main.js'], { cwd: app, encoding: 'utf8', env: appEnv({ APP_DATABASE: database }) });
  /** Start the app without waiting; `said(text)` resolves once its stderr shows the text. */
  const startAsync = (database: string) => {
    const child = spawn(process.execPath, ['dist/src/main.js'], { cwd: app, env: appEnv({ APP_DATABASE: database }) });
    let stdout = '';
    let stderr = '';
    const listeners: Array<() => void> = [];
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      for (const listener of listeners) listener();
    });
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
    const said = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => stderr.includes(text) && resolve();
        listeners.push(check);
        check();
        void done.then(() => reject(new Error(`exited without saying "${text}":\n${stderr}`)));
      });
    return { done, said };
  };
  const upsPerVersion = (database: string) => {
    const db = new Database(database, { readonly: true });
    try {
      return db.prepare(`SELECT version, count(*) AS n FROM dbshift_history WHERE direction = 'up' GROUP BY version ORDER BY version`).all();
    } finally {
      db.close();
    }
  };

  it('type-checks with tsc --noEmit: its code migration imports MigrationContext and Check from dbshift', () => {
    const check = tsc(app, '-p', '.', '--noEmit');
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });

  it('creates its tables at the first start and has nothing to do at the second', () => {
    const build = tsc(app, '-p', '.');
    expect(build.status, build.stdout + build.stderr).toBe(0);
    const database = path.join(tempDir(), 'data', 'app.db');

    const first = start(database);
    expect(first.status, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ status: 'applied', version: 2, applied: [1, 2] });
    expect(first.stderr).toContain('up 000001_create_notes');
    const db = new Database(database, { readonly: true });
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['notes', 'tags', 'note_tags', 'schema_migrations', 'dbshift_history']));
    expect(db.prepare('SELECT title FROM notes').pluck().all()).toEqual(['Welcome']);
    db.close();
    // A database created empty at this start has nothing a backup could keep.
    expect(fs.existsSync(path.join(path.dirname(database), 'backups'))).toBe(false);

    const second = start(database);
    expect(second.status, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ status: 'nothing-to-do', version: 2, applied: [] });
    expect(upsPerVersion(database)).toEqual([{ version: 1, n: 1 }, { version: 2, n: 1 }]);
  });

  it('two instances starting at once on one new database: one migrates, the other waits for the lock, both end at the latest version, each migration applied once', async () => {
    if (!fs.existsSync(path.join(app, 'dist/src/main.js'))) expect(tsc(app, '-p', '.').status).toBe(0);
    const dir = path.join(tempDir(), 'data');
    fs.mkdirSync(dir);
    const database = path.join(dir, 'app.db');
    // Hold the lock while both start, so that both find it taken and neither is ahead.
    const held = acquireInstanceLock(dir, 'test', new Date());
    const apps = [startAsync(database), startAsync(database)];
    // Both are waiting for the lock, not failing: then it is free, and they race for it.
    await Promise.all(apps.map((a) => a.said('waiting up to 30000 ms for the lock')));
    held.release();
    const runs = await Promise.all(apps.map((a) => a.done));
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ version: 2 });
    }
    const outcomes = runs.map((run) => JSON.parse(run.stdout) as { status: string; applied: number[] });
    expect(outcomes.map((o) => o.status).sort()).toEqual(['applied', 'nothing-to-do']);
    expect(outcomes.flatMap((o) => o.applied).sort()).toEqual([1, 2]);
    expect(upsPerVersion(database)).toEqual([{ version: 1, n: 1 }, { version: 2, n: 1 }]);
  });
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
  }, 300_000);
});
