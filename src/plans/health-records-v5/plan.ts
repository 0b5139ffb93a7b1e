import type { TransformPlan, UnitContext } from '../unit.js';
import { UTC_FUNCTION } from './functions.js';
import type { V5Inspection } from './inspect.js';
import { CREATE_TASK_LOG, createIndexSql, IDENTIFIER_INDEX, NEW_COLUMNS, TASK_LOG_INDEX } from './schema.js';

/**
 * Pure: the statements that take a database in `inspection`'s state to v5. Columns added by
 * this run are assigned outright (they hold only their DEFAULT); columns that already existed
 * keep any non-NULL value, as the spec asks for partially migrated databases.
 */
export function planV5(inspection: V5Inspection, context: UnitContext): TransformPlan {
  const present = new Set(inspection.presentColumns);
  const schema = NEW_COLUMNS.filter((c) => !present.has(`${c.table}.${c.name}`)).map(
    (c) => `ALTER TABLE ${c.table} ADD COLUMN ${c.name} ${c.definition}`,
  );
  if (!inspection.hasTaskLog) schema.push(CREATE_TASK_LOG);
  if (!inspection.presentIndexes.includes(TASK_LOG_INDEX.name)) schema.push(createIndexSql(TASK_LOG_INDEX));
  // A partial run may have built the unique index already. Dropping it for the backfill and
  // rebuilding it afterwards lets the duplicate guard report collisions with their ids,
  // instead of the UPDATE failing on the first one.
  if (inspection.presentIndexes.includes(IDENTIFIER_INDEX.name)) schema.push(`DROP INDEX ${IDENTIFIER_INDEX.name}`);

  const fill = (table: string, column: string, value: string) =>
    present.has(`${table}.${column}`) ? `${column} = coalesce(${column}, ${value})` : `${column} = ${value}`;

  const recordTimestamp = `${UTC_FUNCTION}(timestamp)`;
  const reportCreated = `${UTC_FUNCTION}(report.created_at)`;
  // user_id comes from the report's health record; an orphaned report finds none and keeps NULL.
  const identifier = `(SELECT hr.user_id || '-' || report.health_record_id || '-' || report.report_template_id || '-' ||
      coalesce(replace(substr(coalesce(${reportCreated}, ${UTC_FUNCTION}(hr.timestamp)), 1, 10), '-', ''), :run_date) ||
      '-' || report.id
    FROM health_record AS hr WHERE hr.id = report.health_record_id)`;

  return {
    schema,
    backfill: [
      {
        table: 'health_record',
        sql: `UPDATE health_record SET ${[
          fill('health_record', 'processing_status', `'completed'`),
          fill('health_record', 'processing_completed_at', recordTimestamp),
        ].join(', ')} WHERE rowid BETWEEN :lo AND :hi`,
      },
      {
        table: 'report',
        sql: `UPDATE report SET ${[
          fill('report', 'generation_status', `'completed'`),
          fill('report', 'generation_completed_at', reportCreated),
          fill('report', 'unique_identifier', identifier),
        ].join(', ')} WHERE rowid BETWEEN :lo AND :hi`,
      },
    ],
    // A pre-existing index is rebuilt from its own text, so the schema stays exactly as it was.
    finish: [inspection.identifierIndexSql ?? createIndexSql(IDENTIFIER_INDEX)],
    params: { run_date: runDateStamp(context.runDate) },
    guards: [
      {
        code: 'duplicate-identifiers',
        message: 'report identifiers would be duplicated, so the UNIQUE index cannot be built',
        sql: `SELECT min(id) AS id FROM report WHERE unique_identifier IS NOT NULL GROUP BY unique_identifier HAVING count(*) > 1`,
      },
    ],
  };
}

/** The run's UTC date as YYYYMMDD: the identifier date of last resort. */
export function runDateStamp(runDate: Date): string {
  return runDate.toISOString().slice(0, 10).replaceAll('-', '');
}
