import { DataError } from '../errors.js';
import type { TableChange } from './driver.js';

// The row-loss backstop's refusal, in one place: the runner raises it before a migration's
// commit, and a driver that commits statement by statement (PostgreSQL outside a transaction)
// raises it before the commit of the statement that lost the rows.

const counted = (n: number | null) => (n === null ? '-' : String(n));

/** `books (3 -> 1)`, `books (now volumes) (3 -> 1)`. */
function describeLoss(table: TableChange): string {
  return `${table.was ?? table.name}${table.was ? ` (now ${table.name})` : ''} (${counted(table.before)} -> ${counted(table.after)})`;
}

/** Tables that lost rows the migration did not declare it deletes, as the error that refuses the commit. */
export function rowsLostError(label: string, lost: readonly TableChange[]): DataError {
  const first = lost[0]!.name;
  return new DataError('rows-lost', `${label} deletes rows it does not declare: ${lost.map(describeLoss).join(', ')}.`, {
    hint: `If the deletion is meant, declare it in the migration (\`-- dbshift:deletes-rows ${first}\` in the SQL file, or \`export const deletesRows = ['${first.replace(/'/g, "\\'")}']\` in code) and run again. If not, look for a cascade: ON DELETE CASCADE under a \`PRAGMA foreign_keys=ON\` before a DROP TABLE, a trigger, INSERT OR REPLACE, or TRUNCATE … CASCADE.`,
  });
}
