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
export function badIdentifierSql(r = 'r'): string {
  return `(${r}.unique_identifier IS NULL
  OR NOT ${IDENTIFIER_OK_FUNCTION}(${r}.unique_identifier)
  OR substr(${r}.unique_identifier, 1, length(hr.user_id || '-' || ${r}.health_record_id || '-' || ${r}.report_template_id || '-'))
     IS NOT (hr.user_id || '-' || ${r}.health_record_id || '-' || ${r}.report_template_id || '-')
  OR substr(${r}.unique_identifier, -length('-' || ${r}.id)) IS NOT ('-' || ${r}.id))`;
}

export interface StatusTally {
  /** Every status of the spec (0 when absent), then anything unexpected the data holds ('NULL' for NULL). */
  byStatus: Record<string, number>;
  nulls: number;
}

export interface V5RowTally {
  records: StatusTally;
  reports: StatusTally & { withIdentifier: number; withoutIdentifier: number; badIdentifiers: number };
}

/** Aggregates over one table's rows (alias `alias`), summed over any split of the rows into chunks. */
export interface TallyQuery {
  /** Joins the aggregates need, after `FROM <table> AS <alias>`. */
  join: string;
  /** `expression AS name`, each a count. */
  aggregates: string[];
}

/**
 * The tally's aggregates per table, over rows aliased `alias`; `keys` names a table or CTE of
 * (id, user_id) of health_record. The full comparison computes these on its own pass over the
 * rows (verification then reads the tables once, not twice); `tallyV5Rows` runs them alone.
 */
export function v5TallyQueries(alias: string, keys: string): Record<'health_record' | 'report', TallyQuery> {
  return {
    health_record: { join: '', aggregates: statusAggregates(alias, 'processing_status', PROCESSING_STATUSES) },
    report: {
      join: `LEFT JOIN ${keys} AS hr ON hr.id = ${alias}.health_record_id`,
      aggregates: [
        ...statusAggregates(alias, 'generation_status', GENERATION_STATUSES),
        `count(${alias}.unique_identifier) AS with_identifier`,
        `count(*) FILTER (WHERE hr.id IS NOT NULL AND ${badIdentifierSql(alias)}) AS bad_identifiers`,
      ],
    },
  };
}

/** The tally from one pass per table, each with its own aggregate query. */
export function tallyV5Rows(db: Db): V5RowTally {
  // user_id sits after each record's large values: read once per record, not once per report.
  const queries = v5TallyQueries('r', 'record_keys');
  const run = (table: 'health_record' | 'report') =>
    db
      .prepare(
        `WITH record_keys AS MATERIALIZED (SELECT id, user_id FROM health_record)
         SELECT ${queries[table].aggregates.join(', ')} FROM ${table} AS r ${queries[table].join}`,
      )
      .get() as Record<string, number>;
  return tallyFromCounts(db, { health_record: run('health_record'), report: run('report') });
}

/** The tally from the aggregates' sums; statuses outside the spec are named by one more (GROUP BY) query, only when there are any. */
export function tallyFromCounts(db: Db, counts: Record<'health_record' | 'report', Record<string, number>>): V5RowTally {
  const records = statusTally(db, 'health_record', 'processing_status', PROCESSING_STATUSES, counts.health_record);
  const reports = statusTally(db, 'report', 'generation_status', GENERATION_STATUSES, counts.report);
  const withIdentifier = counts.report.with_identifier ?? 0;
  return {
    records: { byStatus: records.byStatus, nulls: records.nulls },
    reports: {
      byStatus: reports.byStatus,
      nulls: reports.nulls,
      withIdentifier,
      withoutIdentifier: (counts.report.total ?? 0) - withIdentifier,
      badIdentifiers: counts.report.bad_identifiers ?? 0,
    },
  };
}

function statusAggregates(alias: string, column: string, known: readonly string[]): string[] {
  const knownList = known.map((s) => `'${s}'`).join(', ');
  return [
    'count(*) AS total',
    `count(*) FILTER (WHERE ${alias}.${column} IS NULL) AS nulls`,
    `count(*) FILTER (WHERE ${alias}.${column} NOT IN (${knownList})) AS unexpected`,
    ...known.map((status, i) => `count(*) FILTER (WHERE ${alias}.${column} = '${status}') AS s${i}`),
  ];
}

function statusTally(db: Db, table: string, column: string, known: readonly string[], row: Record<string, number>): StatusTally {
  const byStatus: Record<string, number> = Object.fromEntries(known.map((status, i) => [status, row[`s${i}`] ?? 0]));
  const nulls = row.nulls ?? 0;
  if (nulls > 0) byStatus.NULL = nulls;
  if ((row.unexpected ?? 0) > 0) {
    const knownList = known.map((s) => `'${s}'`).join(', ');
    const others = db
      .prepare(`SELECT ${column} AS status, count(*) AS n FROM ${table} WHERE ${column} NOT IN (${knownList}) GROUP BY 1`)
      .all() as Array<{ status: unknown; n: number }>;
    for (const other of others) byStatus[String(other.status)] = other.n;
  }
  return { byStatus, nulls };
}
