import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../src/plans/apply.js';
import { UTC_FUNCTION } from '../../src/plans/health-records-v5/functions.js';
import { inspectV5, type V5Inspection } from '../../src/plans/health-records-v5/inspect.js';
import { planV5, runDateStamp } from '../../src/plans/health-records-v5/plan.js';
import type { Db } from '../../src/sqlite/open.js';
import { makeSample, openV5 } from './v5-sample.js';

// Straight from shared/spec/health-records-v5.md, "Output: the v5 layout".
const ADD = {
  processing_status: "ALTER TABLE health_record ADD COLUMN processing_status VARCHAR(20) DEFAULT 'pending'",
  processing_completed_at: 'ALTER TABLE health_record ADD COLUMN processing_completed_at DATETIME',
  processing_error_message: 'ALTER TABLE health_record ADD COLUMN processing_error_message TEXT',
  unique_identifier: 'ALTER TABLE report ADD COLUMN unique_identifier VARCHAR(255)',
  generation_status: "ALTER TABLE report ADD COLUMN generation_status VARCHAR(20) DEFAULT 'pending'",
  generation_started_at: 'ALTER TABLE report ADD COLUMN generation_started_at DATETIME',
  generation_completed_at: 'ALTER TABLE report ADD COLUMN generation_completed_at DATETIME',
  generation_error_message: 'ALTER TABLE report ADD COLUMN generation_error_message TEXT',
} as const;
const CREATE_TASK_LOG = `CREATE TABLE task_log (id INTEGER PRIMARY KEY AUTOINCREMENT,
  health_record_id INTEGER NOT NULL REFERENCES health_record (id) ON DELETE CASCADE,
  task_name VARCHAR(100) NOT NULL, task_id VARCHAR(255), status VARCHAR(20) NOT NULL,
  error_message TEXT, error_type VARCHAR(100), retry_count INTEGER DEFAULT 0,
  started_at DATETIME DEFAULT CURRENT_TIMESTAMP, completed_at DATETIME,
  duration_seconds FLOAT, task_metadata TEXT)`;
const CREATE_TASK_LOG_INDEX = 'CREATE INDEX ix_task_log_health_record_id ON task_log (health_record_id)';
const CREATE_IDENTIFIER_INDEX = 'CREATE UNIQUE INDEX idx_report_unique_identifier ON report (unique_identifier)';
const ALL_V5_COLUMNS = [
  'health_record.processing_status',
  'health_record.processing_completed_at',
  'health_record.processing_error_message',
  'report.unique_identifier',
  'report.generation_status',
  'report.generation_started_at',
  'report.generation_completed_at',
  'report.generation_error_message',
];
const RANGE = 'WHERE rowid BETWEEN :lo AND :hi';
const UTC = UTC_FUNCTION;

/** Inspect a fresh sample after running `setup` on it. */
function inspectAfter(setup: (db: Db) => void = () => {}): V5Inspection {
  const db = openV5(makeSample({ reports: 40 }).path);
  try {
    setup(db);
    return inspectV5(db);
  } finally {
    db.close();
  }
}

describe('inspectV5', () => {
  it('pre-v5: a fresh sample has none of the new objects', () => {
    expect(inspectAfter()).toEqual({
      state: 'pre-v5',
      missing: [],
      conflicts: [],
      presentColumns: [],
      hasTaskLog: false,
      presentIndexes: [],
      unfilledRows: 0,
    });
  });

  it('partial: one new column added', () => {
    expect(inspectAfter((db) => db.exec(ADD.generation_status))).toEqual({
      state: 'partial',
      missing: [],
      conflicts: [],
      presentColumns: ['report.generation_status'],
      hasTaskLog: false,
      presentIndexes: [],
      unfilledRows: 0,
    });
  });

  it('partial: only task_log and its index exist', () => {
    const inspection = inspectAfter((db) => db.exec(`${CREATE_TASK_LOG}; ${CREATE_TASK_LOG_INDEX}`));
    expect(inspection.state).toBe('partial');
    expect(inspection.hasTaskLog).toBe(true);
    expect(inspection.presentIndexes).toEqual(['ix_task_log_health_record_id']);
    expect(inspection.presentColumns).toEqual([]);
  });

  it('v5: after the full plan is applied', async () => {
    const db = openV5(makeSample({ reports: 40 }).path);
    try {
      await applyPlan(db, planV5(inspectV5(db), { runDate: new Date('2024-06-01T12:00:00Z') }));
      expect(inspectV5(db)).toEqual({
        state: 'v5',
        missing: [],
        conflicts: [],
        presentColumns: ALL_V5_COLUMNS,
        hasTaskLog: true,
        presentIndexes: ['ix_task_log_health_record_id', 'idx_report_unique_identifier'],
        identifierIndexSql: CREATE_IDENTIFIER_INDEX,
        unfilledRows: 0,
      });
    } finally {
      db.close();
    }
  });

  it('partial: every object exists but some rows are not backfilled', async () => {
    const db = openV5(makeSample({ reports: 40 }).path);
    try {
      await applyPlan(db, planV5(inspectV5(db), { runDate: new Date('2024-06-01T12:00:00Z') }));
      db.exec(`UPDATE health_record SET processing_status = NULL WHERE id IN (1, 2)`);
      db.exec(`UPDATE report SET unique_identifier = NULL WHERE id = 5`);
      const inspection = inspectV5(db);
      expect(inspection.state).toBe('partial');
      expect(inspection.unfilledRows).toBe(3);
    } finally {
      db.close();
    }
  });

  it.each<[string, string, string[]]>([
    ['a missing table', 'DROP TABLE medical_code', ['medical_code']],
    ['a missing column', 'ALTER TABLE report DROP COLUMN report_type', ['report.report_type']],
    ['a missing table and columns', 'DROP TABLE task_monitor; ALTER TABLE user DROP COLUMN level; ALTER TABLE report DROP COLUMN created_at', ['report.created_at', 'task_monitor', 'user.level']],
  ])('unknown: %s is named in missing', (_label, sql, missing) => {
    const inspection = inspectAfter((db) => db.exec(sql));
    expect(inspection.state).toBe('unknown');
    expect([...inspection.missing].sort()).toEqual(missing);
    expect(inspection.conflicts).toEqual([]);
  });

  it('unknown: idx_report_unique_identifier exists but is not UNIQUE', () => {
    const inspection = inspectAfter((db) =>
      db.exec(`${ADD.unique_identifier}; CREATE INDEX idx_report_unique_identifier ON report (unique_identifier)`),
    );
    expect(inspection.state).toBe('unknown');
    expect(inspection.missing).toEqual([]);
    expect(inspection.conflicts).toHaveLength(1);
    expect(inspection.conflicts[0]).toContain('idx_report_unique_identifier');
  });

  it('unknown: task_log exists without a column the app needs', () => {
    const inspection = inspectAfter((db) => db.exec(`CREATE TABLE task_log (id INTEGER PRIMARY KEY, health_record_id INTEGER NOT NULL, task_name VARCHAR(100) NOT NULL)`));
    expect(inspection.state).toBe('unknown');
    expect(inspection.conflicts).toContain('task_log.status is missing');
  });
});

describe('planV5', () => {
  const context = { runDate: new Date('2024-06-01T12:00:00Z') };

  it('pre-v5: every ALTER in spec order, then task_log and its index; the unique index last', () => {
    const plan = planV5(inspectAfter(), context);
    expect(plan.schema).toEqual([
      ADD.processing_status,
      ADD.processing_completed_at,
      ADD.processing_error_message,
      ADD.unique_identifier,
      ADD.generation_status,
      ADD.generation_started_at,
      ADD.generation_completed_at,
      ADD.generation_error_message,
      CREATE_TASK_LOG,
      CREATE_TASK_LOG_INDEX,
    ]);
    expect(plan.finish).toEqual([CREATE_IDENTIFIER_INDEX]);
    expect(plan.params).toEqual({ run_date: '20240601' });
    expect(plan.backfill.map((b) => b.table)).toEqual(['health_record', 'report']);
    // Columns added by this run are assigned outright.
    expect(plan.backfill[0]?.sql).toBe(
      `UPDATE health_record SET processing_status = 'completed', processing_completed_at = ${UTC}(timestamp) ${RANGE}`,
    );
    const report = plan.backfill[1]?.sql ?? '';
    expect(report.startsWith(
      `UPDATE report SET generation_status = 'completed', generation_completed_at = ${UTC}(report.created_at), unique_identifier = (SELECT `,
    )).toBe(true);
    expect(report.endsWith(RANGE)).toBe(true);
    expect(report).not.toContain('coalesce(generation_status');
    expect(report).not.toContain('generation_started_at');
    expect(plan.guards.map((g) => g.code)).toEqual(['duplicate-identifiers']);
  });

  it('partial: present columns are not re-added and keep their values; a present identifier index is dropped and rebuilt', () => {
    const inspection = inspectAfter((db) =>
      db.exec(`${ADD.processing_status}; ${ADD.unique_identifier}; ${CREATE_IDENTIFIER_INDEX}`),
    );
    expect(inspection.state).toBe('partial');
    expect(inspection.presentColumns).toEqual(['health_record.processing_status', 'report.unique_identifier']);
    expect(inspection.presentIndexes).toEqual(['idx_report_unique_identifier']);

    const plan = planV5(inspection, context);
    expect(plan.schema).toEqual([
      ADD.processing_completed_at,
      ADD.processing_error_message,
      ADD.generation_status,
      ADD.generation_started_at,
      ADD.generation_completed_at,
      ADD.generation_error_message,
      CREATE_TASK_LOG,
      CREATE_TASK_LOG_INDEX,
      'DROP INDEX idx_report_unique_identifier',
    ]);
    expect(plan.finish).toEqual([CREATE_IDENTIFIER_INDEX]);
    expect(plan.backfill[0]?.sql).toBe(
      `UPDATE health_record SET processing_status = coalesce(processing_status, 'completed'), processing_completed_at = ${UTC}(timestamp) ${RANGE}`,
    );
    const report = plan.backfill[1]?.sql ?? '';
    expect(report.startsWith(
      `UPDATE report SET generation_status = 'completed', generation_completed_at = ${UTC}(report.created_at), unique_identifier = coalesce(unique_identifier, (SELECT `,
    )).toBe(true);
    expect(report.endsWith(RANGE)).toBe(true);
  });

  it('partial: an existing task_log and its index are not created again', () => {
    const inspection = inspectAfter((db) => db.exec(`${CREATE_TASK_LOG}; ${CREATE_TASK_LOG_INDEX}; ${ADD.generation_completed_at}`));
    const plan = planV5(inspection, context);
    expect(plan.schema).toEqual([
      ADD.processing_status,
      ADD.processing_completed_at,
      ADD.processing_error_message,
      ADD.unique_identifier,
      ADD.generation_status,
      ADD.generation_started_at,
      ADD.generation_error_message,
    ]);
    expect(plan.backfill[1]?.sql).toContain(`generation_completed_at = coalesce(generation_completed_at, ${UTC}(report.created_at))`);
  });

  it('is pure: the same inspection gives the same plan and is not modified', () => {
    const inspection = inspectAfter((db) => db.exec(ADD.generation_status));
    const copy = structuredClone(inspection);
    const first = planV5(inspection, context);
    const second = planV5(inspection, { runDate: new Date(context.runDate) });
    expect(second).toEqual(first);
    expect(inspection).toEqual(copy);
  });

  it.each<[string, Date, string]>([
    ['local evening, UTC next day', new Date('2024-03-01T23:30:00-05:00'), '20240302'],
    ['local morning, UTC previous day', new Date('2024-03-01T00:30:00+02:00'), '20240229'],
    ['UTC new year', new Date('2023-12-31T22:00:00-03:00'), '20240101'],
    ['UTC midnight exactly', new Date('2024-06-01T00:00:00Z'), '20240601'],
    ['last UTC millisecond of a day', new Date('2024-06-01T23:59:59.999Z'), '20240601'],
  ])('params.run_date is the UTC YYYYMMDD of runDate: %s', (_label, runDate, expected) => {
    expect(runDateStamp(runDate)).toBe(expected);
    expect(planV5(inspectAfter(), { runDate }).params).toEqual({ run_date: expected });
  });
});
