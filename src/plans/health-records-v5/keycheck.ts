import type { Db } from '../../sqlite/open.js';
import { quoteIdent } from '../../sqlite/introspect.js';
import { deriveKey, opensWithKey } from './crypto.js';
import { ENCRYPTED_COLUMNS } from './schema.js';
import type { KeyCheck } from '../unit.js';

export const KEY_SAMPLE_SIZE = 50;


/**
 * Try SECRET_KEY on up to 50 non-empty encrypted values, spread over every encrypted column,
 * so that a wrong key stops the run before anything is written instead of after the window.
 */
export function checkSecretKey(db: Db, secretKey: string): KeyCheck {
  const key = deriveKey(secretKey);
  const perColumn = Math.ceil(KEY_SAMPLE_SIZE / ENCRYPTED_COLUMNS.length);
  const result: KeyCheck = { sampled: 0, opened: 0, failures: [] };
  try {
    for (const [table, column] of ENCRYPTED_COLUMNS) {
      const rows = db
        .prepare(`SELECT rowid AS id, ${quoteIdent(column)} AS value FROM ${quoteIdent(table)} WHERE length(${quoteIdent(column)}) > 0 LIMIT ?`)
        .all(perColumn) as Array<{ id: number; value: string | Buffer }>;
      for (const { id, value } of rows) {
        if (result.sampled === KEY_SAMPLE_SIZE) return result;
        result.sampled++;
        if (opensWithKey(key, value)) result.opened++;
        else result.failures.push(`${table}.${column}#${id}`);
      }
    }
    return result;
  } finally {
    key.fill(0);
  }
}
