import type { Db } from '../../sqlite/open.js';
import type { V5RowTally } from './tally.js';

export interface V5Summary {
  processingStatus: Record<string, number>;
  generationStatus: Record<string, number>;
  identifiers: { with: number; without: number; samples: string[] };
}

/** The report's v5 summary, from the verification's one pass over the rows (plus an index lookup). */
export function summarizeV5(db: Db, tally: V5RowTally): V5Summary {
  const samples = (
    db.prepare(`SELECT unique_identifier AS id FROM report WHERE unique_identifier IS NOT NULL ORDER BY unique_identifier LIMIT 3`).all() as Array<{ id: string }>
  ).map((r) => r.id);
  return {
    processingStatus: tally.records.byStatus,
    generationStatus: tally.reports.byStatus,
    identifiers: { with: tally.reports.withIdentifier, without: tally.reports.withoutIdentifier, samples },
  };
}
