import { DataError } from '../../errors.js';
import { applyPlanInTransaction } from '../apply.js';
import { planV5Down } from './down.js';
import { healthRecordsV5, type V5UnitInspection } from './index.js';
import { inspectV5 } from './inspect.js';
import { V5_CHECKSUM, V5_DOWN_SQL, V5_NAME, V5_UP_SQL, V5_VERSION } from './version.js';
import { yieldToEventLoop } from '../../yield.js';
import { quoteIdent } from '../../sqlite/introspect.js';
import type { MigrationDefinition, MigrationSet } from '../../engine/types.js';

// The health-records v5 change as the built-in migration set `health-records`: the same unit
// `dbshift migrate` runs (inspect → pure plan → chunked backfill → verify), here inside the
// engine's transaction, plus a down migration that removes exactly what v5 adds.

export const HEALTH_RECORDS_SET_NAME = 'health-records';

/** Built from `now` so identifiers without a date of their own get the run's date, like `dbshift migrate`. */
function v5Migration(now: () => Date): MigrationDefinition {
  let before: V5UnitInspection | undefined;
  return {
    version: V5_VERSION,
    name: V5_NAME,
    kind: 'builtin',
    files: [`builtin:${HEALTH_RECORDS_SET_NAME}/${V5_NAME}`],
    checksum: V5_CHECKSUM,
    up: {
      sql: V5_UP_SQL,
      transactional: true,
      async run({ db }) {
        healthRecordsV5.prepare(db);
        before = healthRecordsV5.inspect(db);
        if (before.blockers.length > 0) {
          throw new DataError('unknown-schema', `The database is not a HealthSum database v5 can apply to: ${before.blockers.join(', ')}.`);
        }
        if (before.complete) return;
        // In place, the backfill is an UPDATE of every row: the app's triggers on these tables
        // would fire (issue 9.9). They are set aside and re-created from their own text, inside
        // the same transaction, so they exist exactly as before and never see the backfill.
        const triggers = db
          .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND lower(tbl_name) IN ('health_record', 'report') ORDER BY rowid`)
          .all() as Array<{ name: string; sql: string }>;
        for (const trigger of triggers) db.exec(`DROP TRIGGER ${quoteIdent(trigger.name)}`);
        await applyPlanInTransaction(db, healthRecordsV5.plan(before, { runDate: now() }), { yieldNow: yieldToEventLoop });
        for (const trigger of triggers) db.exec(trigger.sql);
      },
      verify({ db }) {
        return healthRecordsV5.verify(db, before ?? healthRecordsV5.inspect(db));
      },
    },
    down: {
      sql: V5_DOWN_SQL,
      transactional: true,
      run({ db }) {
        for (const sql of planV5Down(inspectV5(db, { countUnfilledRows: false }))) db.exec(sql);
      },
      verify({ db }) {
        const after = inspectV5(db, { countUnfilledRows: false });
        const left = [...after.presentColumns, ...after.presentIndexes, ...(after.hasTaskLog ? ['task_log'] : [])];
        return [{ name: 'v5 objects removed', ok: left.length === 0, detail: left.length === 0 ? 'the pre-v5 layout is back' : `still present: ${left.join(', ')}` }];
      },
    },
  };
}

export function builtinSet(name: string, now: () => Date): MigrationSet | undefined {
  if (name !== HEALTH_RECORDS_SET_NAME) return undefined;
  return { source: `builtin:${HEALTH_RECORDS_SET_NAME}`, migrations: [v5Migration(now)] };
}
