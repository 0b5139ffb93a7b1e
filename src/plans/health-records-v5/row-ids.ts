import type { Db } from '../../sqlite/open.js';
import type { BlockingRows } from '../unit.js';
import type { V5Inspection } from './inspect.js';
import { WARNING_IDS_LIMIT } from './warnings.js';

/**
 * Reports whose identifier would not have the spec's shape (`user-record-template-date-report`,
 * digits only): a negative or non-integer report id, health_record_id, report_template_id or
 * user_id. Found here, before anything is written, instead of failing verification at the end.
 * Reads only the first columns of each report (before its large content) and each record's
 * user_id once, and only rows whose identifier the run computes. The same pass counts both tables.
 */
export const MALFORMED_IDS = {
  code: 'malformed-identifier-ids',
  message: "reports would get a malformed unique_identifier: their id, health_record_id, report_template_id or their record's user_id is negative or not an integer",
};

/** SQL: the identifier's parts are all non-negative integers (`hr` is the report's record keys). */
export function identifierPartsWellFormed(report = 'r', record = 'hr'): string {
  const wellFormed = (expr: string) => `(typeof(${expr}) = 'integer' AND ${expr} >= 0)`;
  return [`${report}.id`, `${report}.health_record_id`, `${report}.report_template_id`, `${record}.user_id`].map(wellFormed).join(' AND ');
}

export function v5BlockingRows(db: Db, inspection: V5Inspection): { blocking: BlockingRows[]; counts: Record<string, number> } {
  const stillNull = inspection.presentColumns.includes('report.unique_identifier') ? 'AND r.unique_identifier IS NULL' : '';
  const malformed = `hr.id IS NOT NULL AND NOT (${identifierPartsWellFormed()}) ${stillNull}`;
  // One read of each table: the row counts the preflight reports come from the same pass.
  const row = db
    .prepare(
      `WITH record_keys AS MATERIALIZED (SELECT id, user_id FROM health_record)
       SELECT count(*) AS reports, count(*) FILTER (WHERE ${malformed}) AS malformed, (SELECT count(*) FROM record_keys) AS records
       FROM report AS r LEFT JOIN record_keys AS hr ON hr.id = r.health_record_id`,
    )
    .get() as { reports: number; malformed: number; records: number };
  const counts = { report: row.reports, health_record: row.records };
  if (row.malformed === 0) return { blocking: [], counts };
  const ids = db
    .prepare(
      `WITH record_keys AS MATERIALIZED (SELECT id, user_id FROM health_record)
       SELECT r.id AS id FROM report AS r LEFT JOIN record_keys AS hr ON hr.id = r.health_record_id WHERE ${malformed} ORDER BY r.id LIMIT ${WARNING_IDS_LIMIT}`,
    )
    .all() as Array<{ id: number }>;
  return {
    blocking: [
      {
        ...MALFORMED_IDS,
        count: row.malformed,
        ids: ids.map((r) => r.id),
      },
    ],
    counts,
  };
}
