import type { Db } from '../../sqlite/open.js';
import { normalizeTimestamp } from './timestamps.js';

/** SQL name of normalizeTimestamp(), available on every connection the v5 unit touches. */
export const UTC_FUNCTION = 'dbshift_v5_utc';

export function registerV5Functions(db: Db): void {
  db.function(UTC_FUNCTION, { deterministic: true }, (value: unknown) => normalizeTimestamp(value));
}

const CANONICAL_GLOB = `'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]'`;

/**
 * SQL for normalizeTimestamp(expr). Text already in the canonical form (nearly every value the
 * app wrote) is recognised in SQL and kept as it is, which saves a call into JavaScript per row;
 * strftime() gives back only real dates and times unchanged (30 February or 24:00 come back
 * different, though hour 24 does not). Everything else goes to the JavaScript function. Both paths agree: tested value
 * by value in test/unit/utc-sql.test.ts.
 */
export function utcSql(expr: string): string {
  return (
    `CASE WHEN typeof(${expr}) = 'text' AND ${expr} GLOB ${CANONICAL_GLOB} AND ${expr} >= '0001'` +
    // strftime() lets hour 24 through, so the clock is range-checked by hand.
    ` AND substr(${expr}, 12, 2) < '24' AND substr(${expr}, 15, 2) < '60' AND substr(${expr}, 18, 2) < '60'` +
    ` AND strftime('%Y-%m-%d %H:%M:%S', substr(${expr}, 1, 19)) = substr(${expr}, 1, 19)` +
    ` THEN ${expr} ELSE ${UTC_FUNCTION}(${expr}) END`
  );
}
