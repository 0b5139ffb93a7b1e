import type { Db } from '../../sqlite/open.js';
import type { Check } from '../unit.js';
import { inspectV5, type V5Inspection } from './inspect.js';
import { IDENTIFIER_PATTERN, NEW_COLUMNS } from './schema.js';
import { WARNING_IDS_LIMIT } from './warnings.js';

function failingIds(db: Db, sql: string): { count: number; ids: number[] } {
  const ids: number[] = [];
  let count = 0;
  for (const row of db.prepare(sql).iterate() as Iterable<{ id: number }>) {
    count++;
    if (ids.length < WARNING_IDS_LIMIT) ids.push(row.id);
  }
  return { count, ids };
}

/** The v5-specific proofs on a migrated database (generic ones live in the pipeline). */
export function verifyV5(db: Db, _before: V5Inspection): Check[] {
  const checks: Check[] = [];
  const after = inspectV5(db);
  const problems = [...after.missing, ...after.conflicts];
  checks.push({
    name: 'v5 objects exist and are backfilled',
    ok: after.state === 'v5',
    detail: after.state === 'v5' ? 'all new columns, task_log and both indexes exist' : `state is ${after.state}${problems.length ? `: ${problems.join(', ')}` : `; ${after.unfilledRows} rows not backfilled`}`,
  });
  // Without the v5 columns, the row-level proofs below cannot even be asked.
  if (after.presentColumns.length < NEW_COLUMNS.length || after.missing.length > 0) return checks;

  db.function('dbshift_identifier_ok', { deterministic: true }, (value: unknown) => (typeof value === 'string' && IDENTIFIER_PATTERN.test(value) ? 1 : 0));
  // Every non-orphaned report: an identifier of the right form whose parts are its own ids.
  const identifiers = failingIds(
    db,
    `SELECT r.id AS id FROM report AS r JOIN health_record AS hr ON hr.id = r.health_record_id
     WHERE r.unique_identifier IS NULL
        OR NOT dbshift_identifier_ok(r.unique_identifier)
        OR substr(r.unique_identifier, 1, length(hr.user_id || '-' || r.health_record_id || '-' || r.report_template_id || '-'))
           IS NOT (hr.user_id || '-' || r.health_record_id || '-' || r.report_template_id || '-')
        OR substr(r.unique_identifier, -length('-' || r.id)) IS NOT ('-' || r.id)
     ORDER BY r.id`,
  );
  checks.push({
    name: 'report identifiers',
    ok: identifiers.count === 0,
    detail: identifiers.count === 0 ? 'every non-orphaned report has a well-formed identifier of its own ids' : `${identifiers.count} reports have a missing or wrong identifier`,
    ids: identifiers.ids,
  });

  const statuses = failingIds(
    db,
    `SELECT id FROM health_record WHERE processing_status IS NULL UNION ALL SELECT id FROM report WHERE generation_status IS NULL`,
  );
  checks.push({
    name: 'statuses set',
    ok: statuses.count === 0,
    detail: statuses.count === 0 ? 'no processing_status or generation_status is NULL' : `${statuses.count} rows have a NULL status`,
    ids: statuses.ids,
  });
  return checks;
}
