import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireInstanceLock, LOCK_FILE_NAME } from '../../src/files/lock.js';
import { dbshift, json, ROOT } from '../support/cli.js';
import { query } from '../support/fixtures.js';
import { tempDir } from '../support/tmp.js';

// The library (issue 11) returns what the CLI prints: failures as data with the CLI's code,
// hint and exit code; an AbortSignal is the CLI's Ctrl-C. Each call runs in a process of its
// own, from dist/, as an app would import it.

interface Failure {
  code: string;
  message: string;
  hint?: string;
  dataState?: string;
  exitCode: number;
}
interface Called {
  result: { ok: boolean; command: string; status: string; error?: Failure; after?: { version: number; dirty: boolean }; steps: Array<{ version: number; status: string }>; notices: string[] };
  events: Array<{ step: string; phase: string; label?: string; message?: string; result?: { name: string; status: string } }>;
}

function call(fn: string, options: Record<string, unknown>, abortAfterMs?: number): Called {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'test/support/library.mjs'), fn, JSON.stringify(options), ...(abortAfterMs === undefined ? [] : [String(abortAfterMs)])], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
  });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as Called;
}

function project(files: Record<string, string>) {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'migrations'));
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'migrations', name), content);
  return { dir, db: path.join(dir, 'app.db'), options: { cwd: dir, database: 'app.db', dir: 'migrations', backupDir: 'backups' } };
}

const FIRST = {
  '000001_notes.up.sql': `CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\nINSERT INTO notes (title) VALUES ('one'), ('two');`,
  '000001_notes.down.sql': 'DROP TABLE notes;',
};

const tables = (db: string) => query<{ name: string }>(db, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).map((t) => t.name);

describe('the library', () => {
  it('exports only what docs/library.md documents: every name dist/index.d.ts exports appears there', () => {
    const declarations = fs.readFileSync(path.join(ROOT, 'dist/index.d.ts'), 'utf8');
    const exported = [...declarations.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((m) =>
      m[1]!.split(',').map((name) => name.trim().replace(/^type /, '').split(/\s+as\s+/).pop()!).filter(Boolean),
    );
    expect(exported).toEqual(expect.arrayContaining(['migrateToLatest', 'up', 'version', 'MigrationContext', 'RebuildChange', 'Check']));
    // "Use from code" moved out of the README into its own page (issue 23).
    const section = fs.readFileSync(path.join(ROOT, 'docs/library.md'), 'utf8');
    const undocumented = exported.filter((name) => !section.includes(`\`${name}\``) && !section.includes(`\`${name}(`) && !section.includes(`\`${name}<`));
    expect(undocumented).toEqual([]);
  });

  it('applies and reports like the CLI: status applied, then nothing-to-do; one progress event shape for the backup and each migration', () => {
    const p = project(FIRST);
    const first = call('migrateToLatest', p.options);
    expect(first.result).toMatchObject({ ok: true, command: 'up', status: 'applied', after: { version: 1, dirty: false } });
    expect(first.events.filter((e) => e.step === 'migration').map((e) => `${e.phase} ${e.label}${e.result ? ` ${e.result.status}` : ''}`)).toEqual(['start 000001_notes', 'end 000001_notes ok']);
    expect(query(p.db, 'SELECT title FROM notes ORDER BY id')).toEqual([{ title: 'one' }, { title: 'two' }]);
    // The database this run created held nothing: no backup of it.
    expect(first.result).toMatchObject({ backup: null });
    expect(fs.existsSync(path.join(p.dir, 'backups'))).toBe(false);
    const again = call('up', p.options);
    expect(again.result).toMatchObject({ ok: true, status: 'nothing-to-do', after: { version: 1 } });

    fs.writeFileSync(path.join(p.dir, 'migrations', '000002_tags.up.sql'), 'CREATE TABLE tags (id INTEGER PRIMARY KEY);');
    const second = call('migrateToLatest', p.options);
    expect(second.result).toMatchObject({ ok: true, status: 'applied', after: { version: 2 }, backup: { path: expect.stringContaining(path.join(p.dir, 'backups', 'app_backup_')) } });
    expect(second.events.filter((e) => e.step === 'backup').map((e) => `${e.phase}${e.result ? ` ${e.result.status}` : ''}`)).toEqual(['start', 'end ok']);
    expect(call('status', p.options).result).toMatchObject({ ok: true, command: 'version', status: 'clean', current: { version: 2, name: 'tags' } });
  });

  it('a failing migration returns ok:false with the error code, hint and exit code the CLI shows for it', () => {
    const p = project({ ...FIRST, '000002_tags.up.sql': 'CREATE TABLE tags (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);', '000002_tags.down.sql': 'DROP TABLE tags;' });
    expect(call('up', { ...p.options, create: true, count: 1 }).result.ok).toBe(true);

    const library = call('up', p.options).result;
    expect(library).toMatchObject({ ok: false, command: 'up', status: 'failed', after: { version: 1, dirty: false } });
    expect(library.steps.map((s) => s.status)).toEqual(['failed']);
    const cli = dbshift(['up', '--json', '--database', 'app.db', '--dir', 'migrations'], { cwd: p.dir, env: { BACKUP_DIR: 'backups' } });
    const shown = json<{ error: Failure }>(cli).error;
    expect(cli.code).toBe(shown.exitCode);
    expect(library.error!.exitCode).toBe(65);
    expect({ code: library.error!.code, message: library.error!.message, hint: library.error!.hint, exitCode: library.error!.exitCode }).toEqual({
      code: shown.code,
      message: shown.message,
      hint: shown.hint,
      exitCode: shown.exitCode,
    });
    expect(tables(p.db)).not.toContain('tags');
  });

  it('a failure before anything runs is data too, never thrown: a bad option (64), a missing database (66)', () => {
    const p = project(FIRST);
    expect(call('up', { ...p.options, busyTimeoutMs: -1 }).result.error).toMatchObject({ code: 'bad-option', exitCode: 64 });
    expect(call('up', p.options).result).toMatchObject({ ok: false, status: 'failed', error: { code: 'missing-database', exitCode: 66 } });
    expect(fs.existsSync(p.db)).toBe(false);
  });

  it('an aborted call rolls the running migration back, releases the lock and leaves the database as it was (130)', () => {
    const p = project({
      ...FIRST,
      '000002_tags.ts': `export function up(ctx) {
  ctx.exec('CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT)');
  ctx.exec("INSERT INTO tags (name) VALUES ('a'), ('b')");
  ctx.exec("DELETE FROM notes WHERE title = 'two'");
  globalThis.abortDbshiftCall?.();
}
export const deletesRows = ['notes'];
export function down(ctx) { ctx.exec('DROP TABLE tags'); }
`,
    });
    expect(call('up', { ...p.options, create: true, count: 1 }).result.ok).toBe(true);
    const before = { tables: tables(p.db), notes: query(p.db, 'SELECT * FROM notes ORDER BY id') };

    const aborted = call('up', p.options).result;
    expect(aborted).toMatchObject({ ok: false, status: 'failed', error: { code: 'interrupted', exitCode: 130 }, after: { version: 1, dirty: false } });
    expect({ tables: tables(p.db), notes: query(p.db, 'SELECT * FROM notes ORDER BY id') }).toEqual(before);
    expect(fs.existsSync(path.join(p.dir, LOCK_FILE_NAME))).toBe(false);
    // Released: the CLI (which aborts nothing) takes the lock and applies the migration.
    const cli = dbshift(['up', '--database', 'app.db', '--dir', 'migrations'], { cwd: p.dir, env: { BACKUP_DIR: 'backups' } });
    expect(cli.code, cli.stderr).toBe(0);
    expect(tables(p.db)).toContain('tags');
  });

  it('an abort while waiting for another run\'s lock gives up the wait (130) and leaves that lock alone', () => {
    const p = project(FIRST);
    expect(call('up', { ...p.options, create: true }).result.ok).toBe(true);
    const held = acquireInstanceLock(p.dir, 'test', new Date());
    try {
      const waited = call('up', { ...p.options, wait: 60_000 }, 300);
      expect(waited.result).toMatchObject({ ok: false, error: { code: 'interrupted', exitCode: 130 } });
      expect(waited.events.some((e) => e.step === 'lock' && e.message?.includes('waiting up to 60000 ms'))).toBe(true);
      expect(JSON.parse(fs.readFileSync(path.join(p.dir, LOCK_FILE_NAME), 'utf8'))).toMatchObject({ pid: process.pid });
    } finally {
      held.release();
    }
  });
});
