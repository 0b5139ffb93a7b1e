import type { Db } from '../../sqlite/open.js';
import type { Warning } from '../../results.js';
import type { UnitContext } from '../unit.js';
import { UTC_FUNCTION } from './functions.js';
import type { V5Inspection } from './inspect.js';

export const WARNING_IDS_LIMIT = 20;

const messages: Record<string, string> = {
  'unparseable-timestamp': 'timestamps that are not NULL but cannot be read; the new column stays NULL',
  'orphaned-report': 'reports whose health record does not exist; they are kept without an identifier',
  'identifier-date-from-record': "reports without a usable created_at; the identifier date comes from the health record's timestamp",
  'identifier-date-from-run': "reports where neither created_at nor the record's timestamp is usable; the identifier uses the run's UTC date",
};

export class WarningTally {
  private readonly byKey = new Map<string, Warning>();

  add(code: string, table: string, id: number | string): void {
    const key = `${code}\u0000${table}`;
    let warning = this.byKey.get(key);
    if (!warning) {
      warning = { code, table, count: 0, ids: [], message: messages[code] ?? code };
      this.byKey.set(key, warning);
    }
    warning.count++;
    if (warning.ids.length < WARNING_IDS_LIMIT) warning.ids.push(id);
  }

  /** In the order of the spec, so that output is stable from run to run. */
  list(): Warning[] {
    const order = Object.keys(messages);
    return [...this.byKey.values()].sort((a, b) => order.indexOf(a.code) - order.indexOf(b.code) || (a.table ?? '').localeCompare(b.table ?? ''));
  }
}

/**
 * One read of health_record and one of report. SQL picks out the anomalous rows; only those
 * reach JavaScript, which counts them and keeps the first ids. On a partially migrated
 * database, rows whose v5 values already exist are not warned about: nothing is computed for them.
 */
export function collectV5Warnings(db: Db, inspection: V5Inspection, _context: UnitContext): Warning[] {
  const present = new Set(inspection.presentColumns);
  // Only rows the backfill will actually compute are warned about.
  const stillNull = (table: string, column: string, alias = table) =>
    present.has(`${table}.${column}`) ? `${alias}.${column} IS NULL` : '1';
  const tally = new WarningTally();

  const records = db.prepare(
    `SELECT id FROM health_record
     WHERE timestamp IS NOT NULL AND ${UTC_FUNCTION}(timestamp) IS NULL AND ${stillNull('health_record', 'processing_completed_at')}
     ORDER BY id`,
  );
  for (const row of records.iterate() as Iterable<{ id: number }>) tally.add('unparseable-timestamp', 'health_record', row.id);

  const reports = db.prepare(
    `SELECT id, unparseable, orphan, date_source FROM (
       SELECT r.id AS id,
         (r.created_at IS NOT NULL AND ${UTC_FUNCTION}(r.created_at) IS NULL AND ${stillNull('report', 'generation_completed_at', 'r')}) AS unparseable,
         (hr.id IS NULL) AS orphan,
         CASE WHEN hr.id IS NULL OR NOT (${stillNull('report', 'unique_identifier', 'r')}) OR ${UTC_FUNCTION}(r.created_at) IS NOT NULL THEN NULL
              WHEN ${UTC_FUNCTION}(hr.timestamp) IS NOT NULL THEN 'record' ELSE 'run' END AS date_source
       FROM report AS r LEFT JOIN health_record AS hr ON hr.id = r.health_record_id)
     WHERE unparseable OR orphan OR date_source IS NOT NULL
     ORDER BY id`,
  );
  for (const row of reports.iterate() as Iterable<{ id: number; unparseable: number; orphan: number; date_source: string | null }>) {
    if (row.unparseable) tally.add('unparseable-timestamp', 'report', row.id);
    if (row.orphan) tally.add('orphaned-report', 'report', row.id);
    if (row.date_source) tally.add(`identifier-date-from-${row.date_source}`, 'report', row.id);
  }
  return tally.list();
}
