import type { Db } from '../../sqlite/open.js';
import { normalizeTimestamp } from './timestamps.js';

/** SQL name of normalizeTimestamp(), available on every connection the v5 unit touches. */
export const UTC_FUNCTION = 'dbshift_v5_utc';

export function registerV5Functions(db: Db): void {
  db.function(UTC_FUNCTION, { deterministic: true }, (value: unknown) => normalizeTimestamp(value));
}
