import type { Db } from '../../sqlite/open.js';
import { GENERATION_STATUSES, PROCESSING_STATUSES } from './schema.js';

// Reading a v5 column of `report` or `health_record` means walking each row's overflow chain:
// ALTER TABLE appends the new columns after the large encrypted BLOBs. Every such query is a
// full read of the table, so verification and summary share this one pass per table.

/** SQL name of the identifier-shape test, registered by registerV5Functions. */
export const IDENTIFIER_OK_FUNCTION = 'dbshift_v5_identifier_ok';

/**
 * A non-orphaned report whose identifier is missing, malformed, or not made of its own ids
 * (`hr` is the report's health record, joined by the caller).
 */
export const BAD_IDENTIFIER_SQL = `(r.unique_identifier IS NULL
  OR NOT ${IDENTIFIER_OK_FUNCTION}(r.unique_identifier)
  OR substr(r.unique_identifier, 1, length(hr.user_id || '-' || r.health_record_id || '-' || r.report_template_id || '-'))
     IS NOT (hr.user_id || '-' || r.health_record_id || '-' || r.report_template_id || '-')
  OR substr(r.unique_identifier, -length('-' || r.id)) IS NOT ('-' || r.id))`;

export interface StatusTally {
  /** Every status of the spec (0 when absent), then anything unexpected the data holds ('NULL' for NULL). */
  byStatus: Record<string, number>;
  nulls: number;
}

export interface V5RowTally {
  records: StatusTally;
  reports: StatusTally & { withIdentifier: number; withoutIdentifier: number; badIdentifiers: number };
}

export function tallyV5Rows(db: Db): V5RowTally {
  const records = tallyStatuses(db, 'health_record', 'processing_status', PROCESSING_STATUSES, '', []);
  const reports = tallyStatuses(
    db,
    'report',
    'generation_status',
    GENERATION_STATUSES,
    'LEFT JOIN record_keys AS hr ON hr.id = r.health_record_id',
    [
      'count(r.unique_identifier) AS with_identifier',
      `count(*) FILTER (WHERE hr.id IS NOT NULL AND ${BAD_IDENTIFIER_SQL}) AS bad_identifiers`,
    ],
    // user_id sits after each record's large values: read once per record, not once per report.
    'WITH record_keys AS MATERIALIZED (SELECT id, user_id FROM health_record)',
  );
  return {
    records: { byStatus: records.byStatus, nulls: records.nulls },
    reports: {
      byStatus: reports.byStatus,
      nulls: reports.nulls,
      withIdentifier: reports.extra.with_identifier ?? 0,
      withoutIdentifier: reports.total - (reports.extra.with_identifier ?? 0),
      badIdentifiers: reports.extra.bad_identifiers ?? 0,
    },
  };
}

/**
 * One pass: a count per known status plus the caller's extra aggregates. Only when the data
 * holds statuses outside the spec does a second (GROUP BY) query name them.
 */
function tallyStatuses(
  db: Db,
  table: string,
  column: string,
  known: readonly string[],
  join: string,
  extra: string[],
  cte = '',
): StatusTally & { total: number; extra: Record<string, number> } {
  const knownList = known.map((s) => `'${s}'`).join(', ');
  const perStatus = known.map((status, i) => `count(*) FILTER (WHERE r.${column} = '${status}') AS s${i}`);
  const row = db
    .prepare(
      `${cte} SELECT count(*) AS total, count(*) FILTER (WHERE r.${column} IS NULL) AS nulls,
              count(*) FILTER (WHERE r.${column} NOT IN (${knownList})) AS unexpected,
              ${[...perStatus, ...extra].join(', ')}
       FROM ${table} AS r ${join}`,
    )
    .get() as Record<string, number>;
  const byStatus: Record<string, number> = Object.fromEntries(known.map((status, i) => [status, row[`s${i}`] ?? 0]));
  if ((row.nulls ?? 0) > 0) byStatus.NULL = row.nulls ?? 0;
  if ((row.unexpected ?? 0) > 0) {
    const others = db
      .prepare(`SELECT ${column} AS status, count(*) AS n FROM ${table} WHERE ${column} NOT IN (${knownList}) GROUP BY 1`)
      .all() as Array<{ status: unknown; n: number }>;
    for (const other of others) byStatus[String(other.status)] = other.n;
  }
  const { total = 0, nulls = 0 } = row;
  return { total, nulls, byStatus, extra: row };
}
