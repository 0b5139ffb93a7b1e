import { createHash } from 'node:crypto';
import type { TransformPlan } from '../unit.js';
import { planV5Down } from './down.js';
import { planV5 } from './plan.js';
import { IDENTIFIER_INDEX, NEW_COLUMNS, TASK_LOG_INDEX } from './schema.js';

// Where v5 sits in the built-in migration set `health-records`: version 1. Its checksum is
// taken over the statements themselves, so changing them is caught like editing an applied
// migration file would be.

export const V5_VERSION = 1;
export const V5_NAME = 'health_records_v5';

const PRE_V5 = { state: 'pre-v5' as const, missing: [], conflicts: [], presentColumns: [], hasTaskLog: false, presentIndexes: [], unfilledRows: 0 };
const ALL_V5 = { presentColumns: NEW_COLUMNS.map((c) => `${c.table}.${c.name}`), hasTaskLog: true, presentIndexes: [TASK_LOG_INDEX.name, IDENTIFIER_INDEX.name] };

function planText(plan: TransformPlan): string {
  return [...plan.schema, ...plan.backfill.map((b) => `${b.sql} -- in rowid chunks :lo..:hi`), ...plan.finish].map((s) => `${s};`).join('\n');
}

/** The full up and down SQL (from a pre-v5 and a complete v5 database), for --dry-run and the checksum. */
export const V5_UP_SQL = planText(planV5(PRE_V5, { runDate: new Date(0) }));
export const V5_DOWN_SQL = planV5Down(ALL_V5).map((s) => `${s};`).join('\n');
export const V5_CHECKSUM = createHash('sha256').update(V5_UP_SQL).update('\0').update(V5_DOWN_SQL).digest('hex');
