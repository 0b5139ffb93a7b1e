import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { dbshift, json, TEST_KEY } from '../support/cli.js';
import { listDir, query, sha256, workspace } from '../support/fixtures.js';

interface Result {
  ok: boolean;
  status: string;
  schemaState: string;
  steps: Array<{ name: string; status: string; ms: number }>;
  counts: Record<string, { before: number | null; after: number | null }>;
  warnings: Array<{ code: string; table?: string; count: number; ids: number[] }>;
  backup: { path: string; sha256: string } | null;
  target: string;
  error?: { code: string; message: string; hint?: string; exitCode: number };
  summary?: { processingStatus: Record<string, number>; generationStatus: Record<string, number>; identifiers: { with: number; without: number; samples: string[] } };
  reportPath?: string;
  checks: Array<{ name: string; ok: boolean }>;
  notices: string[];
}

describe('dbshift migrate, end to end through the CLI', () => {
  it('migrates a clean sample: publishes, removes the hand-prepared input, keeps a verified backup and a JSON record', () => {
    const ws = workspace({ reports: 400 });
    const run = dbshift(['migrate'], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain('dbshift migrate: MIGRATED');
    expect(run.stdout).toContain('pre-existing values unchanged');

    expect(fs.existsSync(ws.target)).toBe(true);
    expect(fs.existsSync(ws.old)).toBe(false);
    expect(listDir(ws.instance)).toEqual(['health_records.db']);

    const backups = listDir(ws.backups);
    const backup = backups.find((n) => /^health_records_backup_\d{8}_\d{6}\.db$/.test(n));
    expect(backup).toBeDefined();
    expect(backups).toContain(`${backup}.sha256`);
    expect(backups.some((n) => /^health_records_migration_\d{8}_\d{6}\.json$/.test(n))).toBe(true);
    // sha256sum -c works from the backup directory.
    expect(execFileSync('sha256sum', ['-c', `${backup}.sha256`], { cwd: ws.backups, encoding: 'utf8' })).toContain(': OK');

    const rows = query<{ n: number }>(ws.target, 'SELECT count(*) AS n FROM report WHERE generation_status = ? AND unique_identifier IS NOT NULL', 'completed');
    expect(rows[0]?.n).toBe(400);
    const record = query<{ id: number; ts: string; done: string; status: string }>(ws.target, 'SELECT id, timestamp AS ts, processing_completed_at AS done, processing_status AS status FROM health_record ORDER BY id LIMIT 1')[0]!;
    expect(record.status).toBe('completed');
    expect(record.done).toBe(record.ts);
    const report = JSON.parse(fs.readFileSync(path.join(ws.backups, backups.find((n) => n.endsWith('.json'))!), 'utf8')) as Result;
    expect(report.status).toBe('migrated');
    expect(report.backup?.sha256).toBe(sha256(path.join(ws.backups, backup!)));
  });

  it('on a --messy sample raises exactly the warnings the sample planted', () => {
    const ws = workspace({ reports: 1500, messy: true, seed: 11 });
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stderr).toBe(0);
    const result = json<Result>(run);
    const got = Object.fromEntries(result.warnings.map((w) => [`${w.code}/${w.table}`, w.count]));
    expect(got).toEqual(ws.sample!.expectedWarnings);
    for (const w of result.warnings) {
      expect(w.ids.length).toBe(Math.min(20, w.count));
    }
    // Orphans keep their row but get no identifier.
    const orphans = ws.sample!.expectedWarnings['orphaned-report/report']!;
    expect(result.summary?.identifiers.without).toBe(orphans);
    expect(result.counts.report).toEqual({ before: 1500, after: 1500 });
  });

  it.each([
    ['missing', undefined],
    ['wrong', 'not-the-production-key'],
  ])('refuses a %s SECRET_KEY with 78 and creates nothing', (_label, key) => {
    const ws = workspace({ reports: 100 });
    const before = sha256(ws.old);
    const run = dbshift(['migrate'], { cwd: ws.dir, env: { ...ws.env, SECRET_KEY: key } });
    expect(run.code).toBe(78);
    // A failure goes to stderr whole; stdout is only for a result.
    expect(run.stderr).toContain('Nothing was changed.');
    expect(run.stdout).toBe('');
    expect(listDir(ws.instance)).toEqual(['health_records_old.db']);
    expect(fs.existsSync(ws.backups)).toBe(false);
    expect(sha256(ws.old)).toBe(before);
  });

  it('reads SECRET_KEY from .env, and the environment wins over .env', () => {
    const ws = workspace({ reports: 100 });
    fs.writeFileSync(path.join(ws.dir, '.env'), `SECRET_KEY=${TEST_KEY}\n`);
    expect(dbshift(['plan'], { cwd: ws.dir, env: { DBSHIFT_BUSY_TIMEOUT_MS: '500' } }).code).toBe(0);
    expect(dbshift(['plan'], { cwd: ws.dir, env: { SECRET_KEY: 'wrong' } }).code).toBe(78);
  });

  it('never accepts the key on the command line and never echoes it', () => {
    const ws = workspace({ withSample: false });
    const run = dbshift(['migrate', '--secret-key=hunter2-canary'], { cwd: ws.dir, env: ws.env });
    expect(run.code).toBe(64);
    expect(run.stdout + run.stderr).not.toContain('hunter2-canary');
    expect(run.stderr).toContain('never accepted on the command line');
  });

  it.each([
    ['a text file', 'this is not a database\n'],
    ['random bytes', Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 256))],
    ['an empty file', ''],
  ])('refuses %s as input with 66 and creates nothing', (_label, content) => {
    const ws = workspace({ withSample: false });
    fs.mkdirSync(ws.instance);
    fs.writeFileSync(ws.old, content);
    const run = dbshift(['migrate'], { cwd: ws.dir, env: ws.env });
    expect(run.code).toBe(66);
    expect(listDir(ws.instance)).toEqual(['health_records_old.db']);
    expect(fs.existsSync(ws.backups)).toBe(false);
  });

  it('refuses a database missing required tables or columns with 65, naming them', () => {
    const ws = workspace({ reports: 50 });
    execSql(ws.old, 'DROP TABLE medical_code; ALTER TABLE report DROP COLUMN report_type;');
    const run = dbshift(['migrate'], { cwd: ws.dir, env: ws.env });
    expect(run.code).toBe(65);
    expect(run.stderr).toContain('missing medical_code');
    expect(run.stderr).toContain('missing report.report_type');
  });

  it('says nothing to do on an already migrated database: exit 0, no backup', () => {
    const ws = workspace({ reports: 100 });
    expect(dbshift(['migrate'], { cwd: ws.dir, env: ws.env }).code).toBe(0);
    const backupsBefore = listDir(ws.backups);
    const targetHash = sha256(ws.target);
    const run = dbshift(['migrate', '--source', ws.target, '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code).toBe(0);
    const result = json<Result>(run);
    expect(result.status).toBe('nothing-to-do');
    expect(result.schemaState).toBe('v5');
    expect(listDir(ws.backups)).toEqual(backupsBefore);
    expect(sha256(ws.target)).toBe(targetHash);
  });

  it('completes a partially migrated database and keeps values that are already there', () => {
    const ws = workspace({ reports: 200 });
    execSql(
      ws.old,
      `ALTER TABLE health_record ADD COLUMN processing_status VARCHAR(20);
       ALTER TABLE report ADD COLUMN unique_identifier VARCHAR(255);
       UPDATE health_record SET processing_status = 'failed' WHERE id = 3;
       UPDATE report SET unique_identifier = 'kept-by-hand' WHERE id = 5;`,
    );
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    const result = json<Result>(run);
    // A hand-set identifier that does not follow the format is kept, and verification says so.
    expect(result.schemaState).toBe('partial');
    expect(run.code).toBe(65);
    expect(result.error?.code).toBe('verification-failed');
    expect(fs.existsSync(ws.target)).toBe(false);

    execSql(ws.old, `UPDATE report SET unique_identifier = NULL WHERE id = 5`);
    const rerun = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(query<{ s: string }>(ws.target, 'SELECT processing_status AS s FROM health_record WHERE id = 3')[0]?.s).toBe('failed');
    expect(query<{ n: number }>(ws.target, `SELECT count(*) AS n FROM health_record WHERE processing_status = 'completed'`)[0]?.n).toBe(49);
    expect(json<Result>(rerun).schemaState).toBe('partial');
  });

  it('a v5 database in use by the app (pending rows without completion time) is v5: nothing to do, and it verifies', () => {
    const ws = workspace({ reports: 100 });
    expect(dbshift(['migrate'], { cwd: ws.dir, env: ws.env }).code).toBe(0);
    execSql(
      ws.target,
      `INSERT INTO health_record (timestamp, user_id, processing_status) VALUES ('2026-11-22 08:00:00.000000', 1, 'pending');
       INSERT INTO report (health_record_id, report_template_id, created_at, generation_status, unique_identifier)
         VALUES (last_insert_rowid(), 1, '2026-11-22 08:00:01.000000', 'generating', 'app-made-identifier');`,
    );
    const run = dbshift(['migrate', '--source', ws.target, '--json'], { cwd: ws.dir, env: ws.env });
    expect(json<Result>(run).status).toBe('nothing-to-do');
    expect(query<{ n: number }>(ws.target, `SELECT count(*) AS n FROM health_record WHERE processing_status = 'pending' AND processing_completed_at IS NULL`)[0]?.n).toBe(1);
  });

  it('handles sparse and huge row ids (1 and 2^62) without walking the id range', () => {
    const ws = workspace({ reports: 50 });
    execSql(ws.old, `CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO audit VALUES (1, 'a'), (4611686018427387904, 'b');
      INSERT INTO report (id, health_record_id, report_template_id, created_at) VALUES (4611686018427387903, 1, 1, '2024-01-01 00:00:00.000000');`);
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stdout.slice(0, 1500)).toBe(0);
    const big = query<{ id: string }>(ws.target, `SELECT unique_identifier AS id FROM report WHERE id = 4611686018427387903`)[0]?.id;
    expect(big).toMatch(/-4611686018427387903$/);
  }, 120_000);

  it('completes a partial database whose identifier index is spelled its own way, keeping that spelling', () => {
    const ws = workspace({ reports: 50 });
    execSql(ws.old, `ALTER TABLE report ADD COLUMN unique_identifier VARCHAR(255); CREATE UNIQUE INDEX "idx_report_unique_identifier" ON "report" ("unique_identifier");`);
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stdout.slice(0, 1500)).toBe(0);
    expect(query<{ sql: string }>(ws.target, `SELECT sql FROM sqlite_master WHERE name = 'idx_report_unique_identifier'`)[0]?.sql).toBe(
      'CREATE UNIQUE INDEX "idx_report_unique_identifier" ON "report" ("unique_identifier")',
    );
  });

  it('verify on a database that was never migrated says so with 65', () => {
    const ws = workspace({ reports: 50 });
    const run = dbshift(['verify', ws.old, '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code).toBe(65);
    expect(run.stdout).toContain('state is pre-v5');
  });

  it('with --strict, any warning is fatal before anything is written', () => {
    const ws = workspace({ reports: 400, messy: true });
    const run = dbshift(['migrate', '--strict'], { cwd: ws.dir, env: ws.env });
    expect(run.code).toBe(65);
    expect(run.stderr).toContain('--strict');
    expect(listDir(ws.instance)).toEqual(['health_records_old.db']);
    expect(fs.existsSync(ws.backups)).toBe(false);
  });

  it('plan writes nothing and lists statements, warnings and space', () => {
    const ws = workspace({ reports: 400, messy: true });
    const before = sha256(ws.old);
    const run = dbshift(['plan', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code).toBe(0);
    const result = json<Result & { plan: { statements: string[]; spaceNeeded: unknown[] } }>(run);
    expect(result.status).toBe('planned');
    expect(result.plan.statements.some((s) => s.startsWith('CREATE TABLE task_log'))).toBe(true);
    expect(result.plan.spaceNeeded.length).toBeGreaterThan(0);
    expect(result.warnings.length).toBeGreaterThan(0);
    expect(listDir(ws.instance)).toEqual(['health_records_old.db']);
    expect(fs.existsSync(ws.backups)).toBe(false);
    expect(sha256(ws.old)).toBe(before);
  });

  it('--rehearse migrates a throw-away copy: verified, timed, nothing in instance/ or backups/ changes', () => {
    const ws = workspace({ reports: 300 });
    const before = sha256(ws.old);
    const run = dbshift(['migrate', '--rehearse', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stdout).toBe(0);
    const result = json<Result>(run);
    expect(result.status).toBe('rehearsed');
    expect(result.steps.find((s) => s.name === 'verify')?.status).toBe('ok');
    expect(result.steps.find((s) => s.name === 'publish')?.status).toBe('skipped');
    expect(listDir(ws.instance)).toEqual(['health_records_old.db']);
    expect(fs.existsSync(ws.backups)).toBe(false);
    expect(sha256(ws.old)).toBe(before);
  });

  it('keeps an existing target in backups/ before publishing, never deleting it', () => {
    const ws = workspace({ reports: 100 });
    const live = path.join(ws.dir, 'prod.db');
    fs.renameSync(ws.old, live);
    fs.writeFileSync(ws.target, 'an older file the operator left here');
    const run = dbshift(['migrate'], { cwd: ws.dir, env: { ...ws.env, SOURCE_DB: live, INSTANCE_DIR: ws.instance, BACKUP_DIR: ws.backups } });
    expect(run.code, run.stdout).toBe(0);
    const replaced = listDir(ws.backups).find((n) => /^health_records_replaced_\d{8}_\d{6}\.db$/.test(n));
    expect(replaced).toBeDefined();
    expect(fs.readFileSync(path.join(ws.backups, replaced!), 'utf8')).toBe('an older file the operator left here');
  });

  it('refuses (75) when the live target changed after the operator copied it to health_records_old.db', () => {
    const ws = workspace({ reports: 100 });
    fs.copyFileSync(ws.old, ws.target);
    // Identical copy: fine. Then the app writes to the live file after the copy.
    expect(dbshift(['plan'], { cwd: ws.dir, env: ws.env }).code).toBe(0);
    execSql(ws.target, `INSERT INTO user (vorname, nachname, username, email) VALUES ('Late', 'Write', 'late', 'late@example.org')`);
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code).toBe(75);
    expect(json<Result>(run).error?.code).toBe('target-changed-after-copy');
    expect(query<{ n: number }>(ws.target, `SELECT count(*) AS n FROM user WHERE username = 'late'`)[0]?.n).toBe(1);
    expect(fs.existsSync(ws.backups)).toBe(false);
  });

  it('refuses to publish over a target with a non-empty -wal beside it (75)', () => {
    const ws = workspace({ reports: 100 });
    fs.writeFileSync(ws.target, 'placeholder');
    fs.writeFileSync(`${ws.target}-wal`, Buffer.alloc(4096, 1));
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code).toBe(75);
    expect(json<Result>(run).error?.code).toBe('target-live');
    expect(fs.readFileSync(ws.target, 'utf8')).toBe('placeholder');
    expect(listDir(ws.instance).filter((n) => n.includes('dbshift-tmp'))).toEqual([]);
  });

  it("does not fire the app's triggers on the rebuilt tables: they are carried over unchanged, created after the data, and plan names them", () => {
    const ws = workspace({ reports: 120 });
    execSql(
      ws.old,
      `CREATE TABLE report_audit (id INTEGER PRIMARY KEY, report_id INTEGER, at TEXT);
       CREATE TRIGGER report_no_update BEFORE UPDATE ON report BEGIN SELECT RAISE(ABORT, 'reports are immutable'); END;
       CREATE TRIGGER report_audit_update AFTER UPDATE ON report BEGIN INSERT INTO report_audit (report_id, at) VALUES (new.id, 'x'); END;
       CREATE TRIGGER record_audit_insert AFTER INSERT ON health_record BEGIN INSERT INTO report_audit (report_id, at) VALUES (-new.id, 'y'); END;
       CREATE VIEW report_sizes AS SELECT id, length(content) AS size FROM report;`,
    );
    const triggersBefore = query<{ name: string; sql: string }>(ws.old, `SELECT name, sql FROM sqlite_master WHERE type IN ('trigger', 'view') ORDER BY name`);

    const planned = dbshift(['plan', '--json'], { cwd: ws.dir, env: ws.env });
    expect(planned.code, planned.stdout).toBe(0);
    const plan = json<Result & { plan: { triggers: Array<{ name: string; table: string }> } }>(planned);
    expect(plan.plan.triggers).toEqual(expect.arrayContaining([
      { name: 'report_no_update', table: 'report' },
      { name: 'report_audit_update', table: 'report' },
      { name: 'record_audit_insert', table: 'health_record' },
    ]));
    expect(plan.notices.join('\n')).toContain('report_no_update (on report)');

    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stdout).toBe(0);
    expect(query<{ n: number }>(ws.target, 'SELECT count(*) AS n FROM report_audit')[0]?.n).toBe(0);
    expect(query(ws.target, `SELECT name, sql FROM sqlite_master WHERE type IN ('trigger', 'view') ORDER BY name`)).toEqual(triggersBefore);
    // The triggers still work for the app afterwards.
    expect(() => execSql(ws.target, `UPDATE report SET report_type = 'x' WHERE id = 1`)).toThrow(/reports are immutable/);
  });

  it('refuses (65, naming them) reports whose ids would make a malformed identifier: after the build in a plain migrate (its one read), in preflight under plan and --strict', () => {
    const ws = workspace({ reports: 60 });
    execSql(ws.old, `UPDATE report SET id = -7 WHERE id = 3; UPDATE report SET report_template_id = 'abc' WHERE id = 5;`);
    const before = sha256(ws.old);
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    expect(run.code, run.stdout).toBe(65);
    const result = json<Result>(run);
    expect(result.error?.code).toBe('malformed-identifier-ids');
    expect(result.error?.message).toContain('2 reports would get a malformed unique_identifier');
    expect(result.error?.message).toContain('-7, 5');
    // The id check rode on the build's read of report: no separate read in preflight.
    expect(result.steps.map((s) => `${s.name}:${s.status}`)).toEqual(['preflight:ok', 'lock:ok', 'snapshot:ok', 'transform:failed', 'backup:not-run', 'verify:not-run', 'publish:not-run']);
    expect(listDir(ws.backups).filter((n) => n.endsWith('.db'))).toEqual([]);
    expect(listDir(ws.instance)).toEqual(['health_records_old.db']);
    expect(sha256(ws.old)).toBe(before);
    for (const args of [['plan', '--json'], ['migrate', '--strict', '--json']]) {
      const first = json<Result>(dbshift(args, { cwd: ws.dir, env: ws.env }));
      expect(first.error?.code).toBe('malformed-identifier-ids');
      expect(first.steps[0]).toMatchObject({ name: 'preflight', status: 'failed' });
    }
  });

  it('--json prints exactly one JSON object with the documented shape', () => {
    const ws = workspace({ reports: 100 });
    const run = dbshift(['migrate', '--json'], { cwd: ws.dir, env: ws.env });
    const result = json<Result>(run);
    expect(Object.keys(result)).toEqual(expect.arrayContaining(['ok', 'status', 'schemaState', 'steps', 'counts', 'warnings', 'backup', 'target']));
    expect(result.steps.map((s) => s.name)).toEqual(['preflight', 'lock', 'snapshot', 'transform', 'backup', 'verify', 'publish']);
    for (const step of result.steps) {
      expect(['ok', 'failed', 'skipped', 'not-run']).toContain(step.status);
      expect(typeof step.ms).toBe('number');
    }
    expect(result.backup?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(run.stderr).toBe('');
    const failed = json<Result>(dbshift(['migrate', '--json'], { cwd: ws.dir, env: { SECRET_KEY: TEST_KEY } }));
    expect(failed.ok).toBe(false);
    expect(failed.status).toBe('failed');
    expect(Object.keys(failed.error!)).toEqual(expect.arrayContaining(['code', 'message', 'hint']));
    expect(failed.steps.every((s) => s.name === 'preflight' ? s.status === 'failed' : s.status === 'not-run')).toBe(true);
  });
});

function execSql(file: string, sql: string): void {
  execFileSync(process.execPath, ['-e', `const D=require('better-sqlite3');const d=new D(process.argv[1]);d.pragma('foreign_keys=OFF');d.exec(process.argv[2]);d.close()`, file, sql], {
    cwd: path.resolve(import.meta.dirname, '../..'),
  });
}
