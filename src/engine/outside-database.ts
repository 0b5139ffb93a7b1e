// A migration changes its own database and nothing else: that is what the backup holds, what
// the row-count backstop counts, what the transaction rolls back and what `restore` puts back.
// ATTACH (and what follows it), VACUUM INTO and DETACH reach other files: writes there would
// survive a rollback in WAL mode, and no backup or restore covers them. Lint's in-memory
// replay must not run them either: it would create or write the named file.

const ATTACH = /^(?:ATTACH|DETACH)\b/i;
const VACUUM_INTO = /^VACUUM\b(?:\s+(?:"[^"]*"|`[^`]*`|\[[^\]]*\]|[\w$]+))?\s+INTO\b/i;

/** Why a statement (comments stripped, as splitStatements gives it) reaches outside the migration's database, or undefined. */
export function reachesOutsideDatabase(text: string): string | undefined {
  if (ATTACH.test(text)) return `${text.split(/\s/, 1)[0]!.toUpperCase()} works on another database file, which no backup, backstop or restore of this one covers`;
  if (VACUUM_INTO.test(text)) return 'VACUUM INTO writes another database file, outside what a migration may change';
  return undefined;
}
