import type { MigrationUnit } from '../unit.js';
import { registerV5Functions } from './functions.js';
import { inspectV5, type V5Inspection } from './inspect.js';
import { planV5 } from './plan.js';
import type { V5Summary } from './summary.js';
import { verifyV5 } from './verify.js';
import { collectV5Warnings } from './warnings.js';
import { checkSecretKey } from './keycheck.js';
import { v5TallyQueries } from './tally.js';
import { V5_CHECKSUM, V5_NAME, V5_VERSION } from './version.js';
import { noteV5Warnings, planV5Build } from './build.js';
import { v5BlockingRows } from './row-ids.js';

export interface V5UnitInspection extends V5Inspection {
  complete: boolean;
  blockers: string[];
}

function inspect(db: Parameters<typeof inspectV5>[0]): V5UnitInspection {
  const inspection = inspectV5(db);
  return { ...inspection, complete: inspection.state === 'v5', blockers: [...inspection.missing.map((m) => `missing ${m}`), ...inspection.conflicts] };
}

/** The HealthSum health-records v5 migration as one self-contained unit. */
export const healthRecordsV5: MigrationUnit<V5UnitInspection, V5Summary | undefined> = {
  name: 'health-records-v5',
  prepare: registerV5Functions,
  prepareIn: { module: new URL('./functions.js', import.meta.url).href, name: 'registerV5Functions' },
  inspect,
  plan: planV5,
  warnings: collectV5Warnings,
  verify: verifyV5,
  // The v5 columns a partial database already had may go from NULL to a value, nothing else.
  fillableColumns: (before) => before.presentColumns,
  checkSecretKey,
  // The report's user_id check needs each record's user_id: gathered once into a temp table.
  rowCounts: () => ({
    setup: ['DROP TABLE IF EXISTS temp.dbshift_v5_verify_keys', 'CREATE TEMP TABLE dbshift_v5_verify_keys AS SELECT id, user_id FROM main.health_record'],
    perTable: v5TallyQueries('m', 'temp.dbshift_v5_verify_keys'),
  }),
  blockingRows: v5BlockingRows,
  build: { plan: planV5Build, prepare: noteV5Warnings },
  version: { version: V5_VERSION, name: V5_NAME, checksum: V5_CHECKSUM },
};

export { encryptForApp, deriveKey } from './crypto.js';
export { ENCRYPTED_COLUMNS } from './schema.js';
export type { V5Summary } from './summary.js';
