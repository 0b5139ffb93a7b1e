import type { Db } from '../../sqlite/open.js';
import { listColumns } from '../../sqlite/introspect.js';
import { GENERATION_STATUSES, NEW_COLUMNS, PROCESSING_STATUSES } from './schema.js';

export interface V5Summary {
  processingStatus: Record<string, number>;
  generationStatus: Record<string, number>;
  identifiers: { with: number; without: number; samples: string[] };
}

/** Every status of the spec (0 when absent), then anything unexpected the data holds. */
function distribution(db: Db, table: string, column: string, known: readonly string[]): Record<string, number> {
  const rows = db.prepare(`SELECT coalesce(${column}, 'NULL') AS status, count(*) AS n FROM ${table} GROUP BY 1 ORDER BY 2 DESC`).all() as Array<{
    status: string;
    n: number;
  }>;
  return { ...Object.fromEntries(known.map((status) => [status, 0])), ...Object.fromEntries(rows.map((r) => [r.status, r.n])) };
}

export function summarizeV5(db: Db): V5Summary | undefined {
  // Nothing to summarise on a database without the v5 columns (e.g. `verify` on a pre-v5 file).
  const columns = new Set([...listColumns(db, 'health_record'), ...listColumns(db, 'report')]);
  if (!NEW_COLUMNS.every((c) => columns.has(c.name))) return undefined;
  const counts = db.prepare(`SELECT count(unique_identifier) AS with_id, count(*) - count(unique_identifier) AS without_id FROM report`).get() as {
    with_id: number;
    without_id: number;
  };
  const samples = (db.prepare(`SELECT unique_identifier AS id FROM report WHERE unique_identifier IS NOT NULL ORDER BY id LIMIT 3`).all() as Array<{ id: string }>).map(
    (r) => r.id,
  );
  return {
    processingStatus: distribution(db, 'health_record', 'processing_status', PROCESSING_STATUSES),
    generationStatus: distribution(db, 'report', 'generation_status', GENERATION_STATUSES),
    identifiers: { with: counts.with_id, without: counts.without_id, samples },
  };
}
