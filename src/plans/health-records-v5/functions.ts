import type { Db } from '../../sqlite/open.js';
import { IDENTIFIER_PATTERN } from './schema.js';
import { IDENTIFIER_OK_FUNCTION } from './tally.js';
import { normalizeTimestamp } from './timestamps.js';

/** SQL name of normalizeTimestamp(), available on every connection the v5 unit touches. */
export const UTC_FUNCTION = 'dbshift_v5_utc';

export function registerV5Functions(db: Db): void {
  // A report's created_at is normalised twice in a row (completion time and identifier date):
  // the second call of the same value returns the first's result.
  let lastValue: unknown;
  let lastResult: string | null = null;
  db.function(UTC_FUNCTION, { deterministic: true }, (value: unknown) => {
    if (value === lastValue && value !== undefined) return lastResult;
    lastResult = normalizeTimestamp(value);
    lastValue = value;
    return lastResult;
  });
  db.function(IDENTIFIER_OK_FUNCTION, { deterministic: true }, (value: unknown) => (typeof value === 'string' && IDENTIFIER_PATTERN.test(value) ? 1 : 0));
}
