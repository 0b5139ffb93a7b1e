import type { Db } from '../../sqlite/open.js';
import type { BlockingRows } from '../unit.js';
import type { V5Inspection } from './inspect.js';
import { WARNING_IDS_LIMIT } from './warnings.js';

/**
 * Reports whose identifier would not have the spec's shape (`user-record-template-date-report`,
 * digits only): a negative or non-integer report id, health_record_id, report_template_id or
 * user_id. Found here, before anything is written, instead of failing verification at the end.
 * Reads only the first columns of each report (before its large content), and only rows whose
 * identifier the run computes.
 */
export function v5BlockingRows(db: Db, inspection: V5Inspection): BlockingRows[] {
  const wellFormed = (expr: string) => `(typeof(${expr}) = 'integer' AND ${expr} >= 0)`;
  const stillNull = inspection.presentColumns.includes('report.unique_identifier') ? 'AND r.unique_identifier IS NULL' : '';
  const ids = db
    .prepare(
      // user_id sits after each record's large values: read once per record, not once per report.
      `WITH record_keys AS MATERIALIZED (SELECT id, user_id FROM health_record)
       SELECT r.id AS id FROM report AS r JOIN record_keys AS hr ON hr.id = r.health_record_id
       WHERE NOT (${['r.id', 'r.health_record_id', 'r.report_template_id', 'hr.user_id'].map(wellFormed).join(' AND ')}) ${stillNull}
       ORDER BY r.id`,
    )
    .all() as Array<{ id: number }>;
  if (ids.length === 0) return [];
  return [
    {
      code: 'malformed-identifier-ids',
      message: 'reports would get a malformed unique_identifier: their id, health_record_id, report_template_id or their record\'s user_id is negative or not an integer',
      count: ids.length,
      ids: ids.slice(0, WARNING_IDS_LIMIT).map((r) => r.id),
    },
  ];
}
