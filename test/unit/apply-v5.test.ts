import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.js';
import { applyPlan } from '../../src/plans/apply.js';
import { inspectV5 } from '../../src/plans/health-records-v5/inspect.js';
import { planV5 } from '../../src/plans/health-records-v5/plan.js';
import { compactDate, isUnparseableTimestamp, normalizeTimestamp } from '../../src/plans/health-records-v5/timestamps.js';
import { collectV5Warnings } from '../../src/plans/health-records-v5/warnings.js';
import type { Db } from '../../src/sqlite/open.js';
import { columnsOf, makeSample, openV5 } from './v5-sample.js';

// shared/spec/health-records-v5.md, "Backfill of existing rows" and "unique_identifier".

const RUN_DATE = new Date('2024-03-01T23:30:00-05:00'); // UTC 2024-03-02
const RUN_STAMP = '20240302';
const ORIGINAL_TABLES = ['user', 'report_template', 'health_record', 'report', 'task_monitor', 'medical_code', 'sqlite_sequence'];

async function migrate(db: Db): Promise<void> {
  await applyPlan(db, planV5(inspectV5(db), { runDate: RUN_DATE }));
}

/** Every value of every listed column, with its storage class (quote() tells 1 from 1.0 from '1'). */
function snapshot(db: Db, tables: Record<string, string[]>): Record<string, unknown[]> {
  const result: Record<string, unknown[]> = {};
  for (const [table, columns] of Object.entries(tables)) {
    const list = columns.map((c) => `quote("${c}")`).join(', ');
    result[table] = db.prepare(`SELECT ${list} FROM "${table}" ORDER BY rowid`).raw().all();
  }
  return result;
}

function originalColumns(db: Db): Record<string, string[]> {
  return Object.fromEntries(ORIGINAL_TABLES.map((t) => [t, columnsOf(db, t)]));
}

/** Rows planted by hand on top of a small clean sample (ids well above the sample's). */
function plantRows(db: Db): void {
  db.exec(`
    INSERT INTO user (id, vorname, nachname, username, email) VALUES (77, 'Ida', 'Koch', 'ida.koch77', 'ida.77@praxis.example');
    INSERT INTO user (id, vorname, nachname, username, email) VALUES (88, 'Max', 'Weber', 'max.weber88', 'max.88@praxis.example');
    INSERT INTO health_record (id, timestamp, user_id) VALUES
      (101, '2024-01-01 01:00:00+02:00', 77),
      (102, NULL, 77),
      (103, 'gestern', 88),
      (104, 1700000000, 88),
      (105, '', 77),
      (106, '2024-02-29T10:00:00.1234567Z', 88);
    INSERT INTO report (id, health_record_id, report_template_id, report_type, created_at) VALUES
      (201, 101, 3, 'summary', '2024-03-05 10:00:00.000000'),
      (202, 101, 2, 'summary', '2024-03-05T23:30:00-05:00'),
      (203, 101, 1, 'summary', NULL),
      (204, 104, 1, 'referral', 'not a date'),
      (205, 102, 1, 'summary', NULL),
      (206, 103, 4, 'discharge', ''),
      (207, 9999, 1, 'summary', '2024-03-05 10:00:00'),
      (208, 106, 5, 'summary', 1700000000123),
      (209, 104, 2, 'summary', 1700000000.25),
      (210, 105, 3, 'summary', '2024-03-05');
  `);
}

function row<T = Record<string, unknown>>(db: Db, sql: string, ...params: unknown[]): T {
  return db.prepare(sql).get(...params) as T;
}

describe('applyPlan with the v5 plan: backfill of hand-planted rows', () => {
  it.each<[number, string | null]>([
    [101, '2023-12-31 23:00:00.000000'],
    [102, null],
    [103, null],
    [104, '2023-11-14 22:13:20.000000'],
    [105, null],
    [106, '2024-02-29 10:00:00.123456'],
  ])('health_record %i: processing_status completed, processing_completed_at %j', async (id, completedAt) => {
    const db = openV5(makeSample({ reports: 8 }).path);
    try {
      plantRows(db);
      await migrate(db);
      expect(row(db, `SELECT processing_status, processing_completed_at, processing_error_message FROM health_record WHERE id = ?`, id)).toEqual({
        processing_status: 'completed',
        processing_completed_at: completedAt,
        processing_error_message: null,
      });
    } finally {
      db.close();
    }
  });

  it.each<[number, string | null, string | null]>([
    // created_at's UTC date
    [201, '2024-03-05 10:00:00.000000', '77-101-3-20240305-201'],
    [202, '2024-03-06 04:30:00.000000', '77-101-2-20240306-202'],
    // created_at NULL or unparseable: the record's normalised timestamp (UTC 2023-12-31, not 2024-01-01)
    [203, null, '77-101-1-20231231-203'],
    [204, null, '88-104-1-20231114-204'],
    // neither is usable: the run's UTC date
    [205, null, `77-102-1-${RUN_STAMP}-205`],
    [206, null, `88-103-4-${RUN_STAMP}-206`],
    [210, '2024-03-05 00:00:00.000000', '77-105-3-20240305-210'],
    // orphaned: no identifier, but the row is still completed
    [207, '2024-03-05 10:00:00.000000', null],
    // epochs stored as INTEGER (milliseconds) and REAL (seconds)
    [208, '2023-11-14 22:13:20.123000', '88-106-5-20231114-208'],
    [209, '2023-11-14 22:13:20.250000', '88-104-2-20231114-209'],
  ])('report %i: generation_completed_at %j, unique_identifier %j', async (id, completedAt, identifier) => {
    const db = openV5(makeSample({ reports: 8 }).path);
    try {
      plantRows(db);
      await migrate(db);
      expect(
        row(db, `SELECT generation_status, generation_started_at, generation_completed_at, generation_error_message, unique_identifier FROM report WHERE id = ?`, id),
      ).toEqual({
        generation_status: 'completed',
        generation_started_at: null,
        generation_completed_at: completedAt,
        generation_error_message: null,
        unique_identifier: identifier,
      });
    } finally {
      db.close();
    }
  });

  it('keeps the orphaned report row and every original column, value and storage class', async () => {
    const db = openV5(makeSample({ reports: 8 }).path);
    try {
      plantRows(db);
      const columns = originalColumns(db);
      const before = snapshot(db, columns);
      const userVersion = db.pragma('user_version', { simple: true });
      await migrate(db);
      expect(snapshot(db, columns)).toEqual(before);
      expect(db.pragma('user_version', { simple: true })).toBe(userVersion);
      expect(row(db, `SELECT health_record_id, created_at FROM report WHERE id = 207`)).toEqual({ health_record_id: 9999, created_at: '2024-03-05 10:00:00' });
      expect(row(db, `SELECT typeof(timestamp) AS t FROM health_record WHERE id = 104`)).toEqual({ t: 'integer' });
    } finally {
      db.close();
    }
  });

  it('adds every v5 object', async () => {
    const db = openV5(makeSample({ reports: 8 }).path);
    try {
      await migrate(db);
      expect(columnsOf(db, 'health_record').slice(-3)).toEqual(['processing_status', 'processing_completed_at', 'processing_error_message']);
      expect(columnsOf(db, 'report').slice(-5)).toEqual([
        'unique_identifier', 'generation_status', 'generation_started_at', 'generation_completed_at', 'generation_error_message',
      ]);
      expect(columnsOf(db, 'task_log')).toEqual([
        'id', 'health_record_id', 'task_name', 'task_id', 'status', 'error_message', 'error_type', 'retry_count',
        'started_at', 'completed_at', 'duration_seconds', 'task_metadata',
      ]);
      const indexes = db.prepare(`SELECT name, "unique" AS isUnique FROM pragma_index_list('report') WHERE name = 'idx_report_unique_identifier'
                                  UNION ALL SELECT name, "unique" FROM pragma_index_list('task_log') WHERE name = 'ix_task_log_health_record_id'`).all();
      expect(indexes).toEqual([
        { name: 'idx_report_unique_identifier', isUnique: 1 },
        { name: 'ix_task_log_health_record_id', isUnique: 0 },
      ]);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });
});

describe('applyPlan with the v5 plan: a partially migrated database', () => {
  it('keeps non-NULL values already in v5 columns and fills the NULL ones', async () => {
    const db = openV5(makeSample({ reports: 8 }).path);
    try {
      plantRows(db);
      db.exec(`
        ALTER TABLE health_record ADD COLUMN processing_completed_at DATETIME;
        UPDATE health_record SET processing_completed_at = '2000-01-01 00:00:00.000000' WHERE id = 101;
        ALTER TABLE report ADD COLUMN unique_identifier VARCHAR(255);
        UPDATE report SET unique_identifier = 'legacy-201' WHERE id = 201;
        ALTER TABLE report ADD COLUMN generation_status VARCHAR(20) DEFAULT 'pending';
        UPDATE report SET generation_status = NULL;
        UPDATE report SET generation_status = 'failed' WHERE id = 202;
      `);
      expect(inspectV5(db).state).toBe('partial');
      await migrate(db);

      expect(row(db, `SELECT processing_completed_at FROM health_record WHERE id = 101`)).toEqual({ processing_completed_at: '2000-01-01 00:00:00.000000' });
      expect(row(db, `SELECT processing_completed_at FROM health_record WHERE id = 104`)).toEqual({ processing_completed_at: '2023-11-14 22:13:20.000000' });
      expect(row(db, `SELECT unique_identifier, generation_status FROM report WHERE id = 201`)).toEqual({ unique_identifier: 'legacy-201', generation_status: 'completed' });
      expect(row(db, `SELECT unique_identifier, generation_status FROM report WHERE id = 202`)).toEqual({ unique_identifier: '77-101-2-20240306-202', generation_status: 'failed' });
      expect(row(db, `SELECT unique_identifier, generation_status FROM report WHERE id = 203`)).toEqual({ unique_identifier: '77-101-1-20231231-203', generation_status: 'completed' });
      expect(inspectV5(db).state).toBe('v5');
    } finally {
      db.close();
    }
  });

  it.each([
    ['without the identifier index', ''],
    ['with the identifier index already built', 'CREATE UNIQUE INDEX idx_report_unique_identifier ON report (unique_identifier);'],
  ])('a pre-existing identifier that collides with a computed one rolls everything back (%s)', async (_label, indexSql) => {
    const file = makeSample({ reports: 8 }).path;
    const db = openV5(file);
    let before: Record<string, unknown[]>;
    let columns: Record<string, string[]>;
    let schemaBefore: unknown[];
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
      plantRows(db);
      // Reports 203 and 204 already hold what 201 and 202 will compute: two duplicated identifiers.
      db.exec(`
        ALTER TABLE report ADD COLUMN unique_identifier VARCHAR(255);
        ${indexSql}
        UPDATE report SET unique_identifier = '77-101-3-20240305-201' WHERE id = 203;
        UPDATE report SET unique_identifier = '77-101-2-20240306-202' WHERE id = 204;
      `);
      columns = originalColumns(db);
      columns.report = columnsOf(db, 'report');
      before = snapshot(db, columns);
      schemaBefore = db.prepare(`SELECT type, name, sql FROM sqlite_master ORDER BY type, name`).all();

      const error = await migrate(db).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DataError);
      const dataError = error as DataError;
      expect(dataError.exitCode).toBe(65);
      expect(dataError.code).toBe('duplicate-identifiers');
      expect(dataError.message).toMatch(/^2 report identifiers? would be duplicated/);
      expect(db.inTransaction).toBe(false);
    } finally {
      db.close();
    }

    // A fresh connection sees the file exactly as it was: no new columns, no task_log, same rows.
    const check = new Database(file, { readonly: true });
    try {
      expect(columnsOf(check, 'health_record')).not.toContain('processing_status');
      expect(columnsOf(check, 'report')).toEqual(columns.report);
      expect(check.prepare(`SELECT type, name, sql FROM sqlite_master ORDER BY type, name`).all()).toEqual(schemaBefore);
      expect(snapshot(check, columns)).toEqual(before);
      expect(check.prepare(`SELECT count(*) AS n FROM report WHERE unique_identifier IS NOT NULL`).get()).toEqual({ n: 2 });
    } finally {
      check.close();
    }
  });
});

// An independent reading of the spec, in JS, to hold the SQL backfill and the warnings against.
interface Oracle {
  records: Map<number, { timestamp: unknown; user_id: number }>;
  reports: Array<{ id: number; health_record_id: number; report_template_id: number; created_at: unknown }>;
}

function readOracle(db: Db): Oracle {
  const records = new Map<number, { timestamp: unknown; user_id: number }>();
  for (const r of db.prepare(`SELECT id, timestamp, user_id FROM health_record ORDER BY id`).all() as Array<{ id: number; timestamp: unknown; user_id: number }>) {
    records.set(r.id, r);
  }
  const reports = db.prepare(`SELECT id, health_record_id, report_template_id, created_at FROM report ORDER BY id`).all() as Oracle['reports'];
  return { records, reports };
}

function expectedIdentifier(oracle: Oracle, report: Oracle['reports'][number]): string | null {
  const record = oracle.records.get(report.health_record_id);
  if (!record) return null;
  const date = normalizeTimestamp(report.created_at) ?? normalizeTimestamp(record.timestamp);
  const stamp = date === null ? RUN_STAMP : compactDate(date);
  return `${record.user_id}-${report.health_record_id}-${report.report_template_id}-${stamp}-${report.id}`;
}

function expectedWarningIds(oracle: Oracle): Record<string, number[]> {
  const ids: Record<string, number[]> = {
    'unparseable-timestamp/health_record': [],
    'unparseable-timestamp/report': [],
    'orphaned-report/report': [],
    'identifier-date-from-record/report': [],
    'identifier-date-from-run/report': [],
  };
  const push = (key: string, id: number) => (ids[key] as number[]).push(id);
  for (const [id, r] of oracle.records) if (isUnparseableTimestamp(r.timestamp)) push('unparseable-timestamp/health_record', id);
  for (const report of oracle.reports) {
    if (isUnparseableTimestamp(report.created_at)) push('unparseable-timestamp/report', report.id);
    const record = oracle.records.get(report.health_record_id);
    if (!record) push('orphaned-report/report', report.id);
    else if (normalizeTimestamp(report.created_at) === null) {
      push(normalizeTimestamp(record.timestamp) === null ? 'identifier-date-from-run/report' : 'identifier-date-from-record/report', report.id);
    }
  }
  return Object.fromEntries(Object.entries(ids).filter(([, list]) => list.length > 0));
}

describe('a messy sample (3000 reports, seed 3)', () => {
  const V5_WARNING_CODES = new Set(['unparseable-timestamp', 'orphaned-report', 'identifier-date-from-record', 'identifier-date-from-run']);

  it('collectV5Warnings counts exactly what the sample planted, with at most 20 ascending ids', () => {
    const sample = makeSample({ reports: 3000, messy: true, seed: 3 });
    const db = openV5(sample.path);
    try {
      const warnings = collectV5Warnings(db, inspectV5(db), { runDate: RUN_DATE });
      const byKey = new Map(warnings.map((w) => [`${w.code}/${w.table}`, w]));
      expect(byKey.size).toBe(warnings.length);

      const expected = Object.entries(sample.expectedWarnings).filter(([key]) => V5_WARNING_CODES.has(key.split('/')[0] as string));
      // The sample plants every kind of anomaly this function reports.
      expect(expected.map(([key]) => key).sort()).toEqual([
        'identifier-date-from-record/report',
        'identifier-date-from-run/report',
        'orphaned-report/report',
        'unparseable-timestamp/health_record',
        'unparseable-timestamp/report',
      ]);
      for (const [key, count] of expected) {
        const warning = byKey.get(key);
        expect(warning, key).toBeDefined();
        expect(warning?.count, key).toBe(count);
        expect(warning?.ids.length, key).toBe(Math.min(count, 20));
      }
      // Nothing else: foreign-key violations are reported by the pipeline, not by this function.
      expect([...byKey.keys()].sort()).toEqual(expected.map(([key]) => key).sort());
      expect(warnings.some((w) => w.code.startsWith('foreign-key'))).toBe(false);

      for (const warning of warnings) {
        expect(warning.ids.length).toBeLessThanOrEqual(20);
        const ids = warning.ids as number[];
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
        expect(new Set(ids).size).toBe(ids.length);
        expect(warning.message.length).toBeGreaterThan(0);
      }

      // The ids are the first 20 of the rows the spec's rules pick out.
      const oracle = expectedWarningIds(readOracle(db));
      for (const [key, ids] of Object.entries(oracle)) {
        expect(byKey.get(key)?.count, key).toBe(ids.length);
        expect(byKey.get(key)?.ids, key).toEqual(ids.slice(0, 20));
      }
    } finally {
      db.close();
    }
  });

  it('the backfill gives every row what the spec says, and never touches original values', async () => {
    const sample = makeSample({ reports: 3000, messy: true, seed: 3 });
    const db = openV5(sample.path);
    try {
      const oracle = readOracle(db);
      const columns = originalColumns(db);
      const before = snapshot(db, columns);
      await migrate(db);
      expect(snapshot(db, columns)).toEqual(before);

      const records = db.prepare(`SELECT id, timestamp, processing_status, processing_completed_at FROM health_record ORDER BY id`).all() as Array<{
        id: number; timestamp: unknown; processing_status: string; processing_completed_at: string | null;
      }>;
      for (const r of records) {
        expect(r.processing_status).toBe('completed');
        expect(r.processing_completed_at, `health_record ${r.id}`).toBe(normalizeTimestamp(r.timestamp));
      }

      const reports = db.prepare(`SELECT id, created_at, generation_status, generation_started_at, generation_completed_at, unique_identifier FROM report ORDER BY id`).all() as Array<{
        id: number; created_at: unknown; generation_status: string; generation_started_at: unknown; generation_completed_at: string | null; unique_identifier: string | null;
      }>;
      expect(reports).toHaveLength(sample.rows.report as number);
      let orphans = 0;
      for (const [i, r] of reports.entries()) {
        const source = oracle.reports[i] as Oracle['reports'][number];
        expect(r.generation_status).toBe('completed');
        expect(r.generation_started_at).toBeNull();
        expect(r.generation_completed_at, `report ${r.id}`).toBe(normalizeTimestamp(r.created_at));
        expect(r.unique_identifier, `report ${r.id}`).toBe(expectedIdentifier(oracle, source));
        if (r.unique_identifier === null) orphans++;
        else expect(r.unique_identifier).toMatch(/^\d+-\d+-\d+-\d{8}-\d+$/);
      }
      expect(orphans).toBe(sample.expectedWarnings['orphaned-report/report']);
    } finally {
      db.close();
    }
  });
});
