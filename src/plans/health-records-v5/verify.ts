import type { Db } from '../../sqlite/open.js';
import type { Check } from '../../results.js';
import type { UnitVerification } from '../unit.js';
import { inspectV5 } from './inspect.js';
import { NEW_COLUMNS } from './schema.js';
import { summarizeV5, type V5Summary } from './summary.js';
import { badIdentifierSql, tallyFromCounts, tallyV5Rows } from './tally.js';
import { WARNING_IDS_LIMIT } from './warnings.js';

function firstIds(db: Db, sql: string): number[] {
  return (db.prepare(`${sql} LIMIT ${WARNING_IDS_LIMIT}`).all() as Array<{ id: number }>).map((r) => r.id);
}

/**
 * The v5-specific proofs on a migrated database (generic ones live in the pipeline), and the
 * summary, from one pass over each table (or from the counts the full comparison took on its
 * pass). Row ids are looked up only for a failing check.
 */
export function verifyV5(db: Db, _before?: unknown, counted?: Record<string, Record<string, number>>): UnitVerification<V5Summary | undefined> {
  const after = inspectV5(db, { countUnfilledRows: false });
  const objectsExist = after.missing.length === 0 && after.conflicts.length === 0 && after.presentColumns.length === NEW_COLUMNS.length && after.hasTaskLog && after.presentIndexes.length === 2;
  const problems = [...after.missing, ...after.conflicts];
  const checks: Check[] = [
    {
      name: 'v5 objects exist',
      ok: objectsExist,
      detail: objectsExist ? 'all new columns, task_log and both indexes exist' : `state is ${after.state}${problems.length ? `: ${problems.join(', ')}` : ''}`,
    },
  ];
  // Without the v5 columns, the row-level proofs below cannot even be asked.
  if (after.presentColumns.length < NEW_COLUMNS.length || after.missing.length > 0) return { checks, summary: undefined };

  // The full comparison may have counted on its own pass over the rows already.
  const tally = counted?.health_record && counted.report ? tallyFromCounts(db, { health_record: counted.health_record, report: counted.report }) : tallyV5Rows(db);
  const { badIdentifiers } = tally.reports;
  checks.push({
    name: 'report identifiers',
    ok: badIdentifiers === 0,
    detail: badIdentifiers === 0 ? 'every non-orphaned report has a well-formed identifier of its own ids' : `${badIdentifiers} reports have a missing or wrong identifier`,
    ids: badIdentifiers === 0 ? [] : firstIds(db, `SELECT r.id AS id FROM report AS r JOIN health_record AS hr ON hr.id = r.health_record_id WHERE ${badIdentifierSql()} ORDER BY r.id`),
  });

  const nullStatuses = tally.records.nulls + tally.reports.nulls;
  checks.push({
    name: 'statuses set',
    ok: nullStatuses === 0,
    detail: nullStatuses === 0 ? 'no processing_status or generation_status is NULL' : `${nullStatuses} rows have a NULL status`,
    ids:
      nullStatuses === 0
        ? []
        : firstIds(db, `SELECT id FROM health_record WHERE processing_status IS NULL UNION ALL SELECT id FROM report WHERE generation_status IS NULL`),
  });
  return { checks, summary: summarizeV5(db, tally) };
}
