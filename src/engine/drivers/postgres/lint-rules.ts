import type { LintRegistry } from '../../lint-registry.js';

// PostgreSQL's lint rules, one entry each: what it checks, the usual fix, where it looks, its
// default level and the squawk 2.66 rules it covers. The visitor in lint.ts finds them; the
// docs' rule table (docs/lint.md) is this list. Nothing here loads the parser.

export const PG_RULES = {
  // dbshift's own conventions (seed 002), which squawk lacks.
  'foreign-key-without-on-delete': {
    checks: 'a foreign key without an ON DELETE action (NO ACTION written out on purpose is accepted)',
    fix: 'Add ON DELETE CASCADE (children go with the parent) or ON DELETE SET NULL (children stay).',
    where: 'statement',
  },
  'foreign-key-without-index': {
    checks: 'a foreign key whose columns no index (or primary key, unique constraint) leads with, after the whole file ran',
    fix: 'CREATE INDEX on the foreign-key columns (CONCURRENTLY when the table already exists).',
    where: 'chain',
  },
  'timestamp-without-time-zone': {
    checks: 'a column declared or changed to timestamp without time zone',
    fix: 'Use timestamptz (TIMESTAMP WITH TIME ZONE).',
    where: 'statement',
    squawk: ['prefer-timestamptz'],
  },
  'data-loss-undocumented': {
    checks: 'DROP TABLE / DROP COLUMN in an up file whose .md does not name the table or column under "Data-loss risk"',
    fix: 'Name what is lost in the .md, section "Data-loss risk".',
    where: 'file',
    squawk: ['ban-drop-column', 'ban-drop-table'],
  },
  'missing-down': {
    checks: 'no .down.sql (or no down export)',
    fix: 'Write the down migration that undoes the up.',
    where: 'file',
  },
  // Locks and rewrites on a table the running app uses (one an earlier migration created).
  'create-index-not-concurrently': {
    checks: 'CREATE INDEX without CONCURRENTLY on a table an earlier migration created',
    fix: 'Use CREATE INDEX CONCURRENTLY (dbshift then runs the migration outside a transaction).',
    where: 'chain',
    squawk: ['require-concurrent-index-creation'],
  },
  'drop-index-not-concurrently': {
    checks: 'DROP INDEX without CONCURRENTLY of an index this file did not create',
    fix: 'Use DROP INDEX CONCURRENTLY (dbshift then runs the migration outside a transaction).',
    where: 'chain',
    squawk: ['require-concurrent-index-deletion'],
  },
  'reindex-not-concurrently': {
    checks: 'REINDEX without CONCURRENTLY',
    fix: 'Use REINDEX … CONCURRENTLY (PostgreSQL 12+; dbshift then runs the migration outside a transaction).',
    where: 'statement',
    squawk: ['require-concurrent-reindex'],
  },
  'detach-partition-not-concurrently': {
    checks: 'ALTER TABLE … DETACH PARTITION without CONCURRENTLY',
    fix: 'Use DETACH PARTITION … CONCURRENTLY (PostgreSQL 14+; outside a transaction).',
    where: 'statement',
    squawk: ['require-concurrent-partition-detach'],
  },
  'concurrently-in-transaction': {
    checks: 'CREATE/DROP INDEX or REINDEX CONCURRENTLY between the file\'s own BEGIN and COMMIT',
    fix: 'Remove the BEGIN/COMMIT around it (dbshift runs a CONCURRENTLY migration outside a transaction by itself).',
    where: 'statement',
    squawk: ['ban-concurrent-index-creation-in-transaction'],
  },
  'add-column-volatile-default': {
    checks: 'ADD COLUMN on an existing table with a volatile DEFAULT (random(), gen_random_uuid(), nextval…), a serial type or a STORED generated expression: a table rewrite',
    fix: 'Add the column without the default (or with a constant one), then fill it in batches.',
    where: 'chain',
    squawk: ['adding-field-with-default', 'adding-serial-primary-key-field'],
  },
  'add-column-required': {
    checks: 'ADD COLUMN … NOT NULL without a DEFAULT on an existing table (fails once the table has rows)',
    fix: 'Add the column with a constant DEFAULT, or nullable and backfilled, then SET NOT NULL after a validated CHECK.',
    where: 'chain',
    squawk: ['adding-required-field'],
  },
  'alter-column-type': {
    checks: 'ALTER COLUMN … TYPE on an existing table (rewrites it and its indexes)',
    fix: 'Add a new column of the new type, backfill it in batches, switch the app, then drop the old column.',
    where: 'chain',
    squawk: ['changing-column-type'],
  },
  'set-not-null-without-check': {
    checks: 'SET NOT NULL on a nullable column of an existing table without a validated CHECK (col IS NOT NULL) first (a column already NOT NULL is a no-op, not a finding)',
    fix: 'First ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID and VALIDATE it; then SET NOT NULL skips the scan.',
    where: 'chain',
    squawk: ['adding-not-nullable-field'],
  },
  'constraint-without-not-valid': {
    checks: 'ADD CONSTRAINT CHECK or FOREIGN KEY (or ADD COLUMN … REFERENCES) on an existing table without NOT VALID',
    fix: 'Add it with NOT VALID, then ALTER TABLE … VALIDATE CONSTRAINT in a later migration.',
    where: 'chain',
    squawk: ['constraint-missing-not-valid', 'adding-foreign-key-constraint'],
  },
  'unique-without-using-index': {
    checks: 'ADD PRIMARY KEY / UNIQUE on an existing table without USING INDEX (builds the index under a write lock)',
    fix: 'CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT … USING INDEX that index.',
    where: 'chain',
    squawk: ['disallowed-unique-constraint', 'adding-serial-primary-key-field'],
  },
  'rename-in-use': {
    checks: 'RENAME of a column or table an earlier migration created (the running app still uses the old name)',
    fix: 'Add the new name beside the old one (a new column kept in sync, or a view), deploy the app, drop the old name later.',
    where: 'chain',
    squawk: ['renaming-column', 'renaming-table'],
  },
  'domain-check-constraint': {
    checks: 'CREATE DOMAIN with a CHECK, or ALTER DOMAIN … ADD CONSTRAINT (every column of the domain is scanned under lock; PostgreSQL cannot add it NOT VALID cheaply later)',
    fix: 'Put the CHECK on the table columns instead (added NOT VALID, then validated).',
    where: 'statement',
    squawk: ['ban-create-domain-with-constraint', 'ban-alter-domain-with-add-constraint'],
  },
  'truncate-cascade': {
    checks: 'TRUNCATE … CASCADE (empties every table that references it, and theirs)',
    fix: 'TRUNCATE the tables by name, each one you mean.',
    where: 'statement',
    squawk: ['ban-truncate-cascade'],
  },
  'drop-database': {
    checks: 'DROP DATABASE in a migration',
    fix: 'Drop databases by hand, never from a migration.',
    where: 'statement',
    squawk: ['ban-drop-database'],
  },
  'vacuum-full-or-cluster': {
    checks: 'VACUUM FULL or CLUSTER (rewrites the table under an ACCESS EXCLUSIVE lock)',
    fix: 'Use pg_repack (or pg_squeeze) outside the migration.',
    where: 'statement',
    squawk: ['prefer-repack'],
  },
  'uncommitted-transaction': {
    checks: 'a BEGIN without a COMMIT after it in the same file',
    fix: 'End the file\'s transaction with COMMIT, or remove the BEGIN (dbshift runs each file in its own transaction).',
    where: 'statement',
    squawk: ['ban-uncommitted-transaction'],
  },
  'transaction-nesting': {
    checks: 'a BEGIN inside the file\'s own BEGIN … COMMIT (PostgreSQL only warns, and the first COMMIT ends both)',
    fix: 'Remove the inner BEGIN/COMMIT (dbshift runs each file in its own transaction).',
    where: 'statement',
    squawk: ['transaction-nesting'],
  },
  // Opt-in: dbshift itself sets lock_timeout on every migration statement, so a file it runs
  // needs none; a team whose files are also run by other tools (psql, a deploy script) enables it.
  'lock-timeout-missing': {
    checks: 'a statement that locks a table an earlier migration created (ALTER TABLE, CREATE INDEX, DROP, RENAME, TRUNCATE, REINDEX, CLUSTER, VACUUM FULL) with no SET lock_timeout before it in the file: run by another tool, it waits behind a long transaction and every query on the table queues behind it',
    fix: "Start the file with SET lock_timeout = '2s'; (and SET statement_timeout), or leave the rule off when only dbshift runs the files (it sets lock_timeout itself, --lock-timeout).",
    where: 'chain',
    level: 'off',
    squawk: ['require-timeout-settings'],
  },
  // Types that cost an outage later, not today: warnings by default.
  'int-id-column': {
    checks: 'an id column (primary key, identity, serial, or REFERENCES) of type int/smallint/serial/smallserial: 32-bit ids run out, and widening rewrites the table',
    fix: 'Declare it bigint (bigint GENERATED ALWAYS AS IDENTITY for a key).',
    where: 'statement',
    level: 'warning',
    squawk: ['prefer-bigint-over-int', 'prefer-bigint-over-smallint'],
  },
  'serial-column': {
    checks: 'a serial/bigserial column (its sequence is a separate object with its own owner and grants)',
    fix: 'Use bigint GENERATED ALWAYS AS IDENTITY.',
    where: 'statement',
    level: 'warning',
    squawk: ['prefer-identity'],
  },
  'varchar-length': {
    checks: 'a varchar(n) column (changing n later can rewrite or lock the table; text has no such cost)',
    fix: 'Use text, with a CHECK (length(col) <= n) added NOT VALID if the limit matters.',
    where: 'statement',
    level: 'warning',
    squawk: ['prefer-text-field'],
  },
  'char-column': {
    checks: 'a char(n) / character(n) column (blank-padded, and no faster than text)',
    fix: 'Use text (with a CHECK on length if needed).',
    where: 'statement',
    level: 'warning',
    squawk: ['ban-char-field'],
  },
  'drop-not-null': {
    checks: 'ALTER COLUMN … DROP NOT NULL on an existing table (clients that rely on the column being set break)',
    fix: 'Make sure every reader handles NULL before the change; ignore the rule with the reason if so.',
    where: 'chain',
    level: 'warning',
    squawk: ['ban-drop-not-null'],
  },
  'identifier-too-long': {
    checks: 'a table, column, index or constraint name longer than 63 bytes (PostgreSQL truncates it silently)',
    fix: 'Shorten the name to at most 63 bytes.',
    where: 'statement',
    squawk: ['identifier-too-long'],
  },
  'duplicate-column-assignment': {
    checks: 'an UPDATE that sets the same column twice (PostgreSQL refuses it; found here without a server)',
    fix: 'Set each column once.',
    where: 'statement',
    squawk: ['ban-duplicate-column-assignments'],
  },
  // Found by PostgreSQL itself.
  'syntax-error': {
    checks: 'a file PostgreSQL\'s parser rejects',
    fix: 'Correct the statement and run `dbshift lint` again.',
    where: 'statement',
  },
  'sql-error': {
    checks: 'a statement PostgreSQL rejects on the schema the earlier migrations build (the replay on a scratch database)',
    fix: 'Correct the statement (names, order of migrations) and run `dbshift lint` again.',
    where: 'replay',
  },
} as const satisfies LintRegistry;

export type PgRule = keyof typeof PG_RULES;

/** squawk 2.66's rules dbshift does not have, and why (every other squawk rule is in some rule's `squawk` list above; `require-timeout-settings` is the opt-in `lock-timeout-missing`). */
export const SQUAWK_LEFT_OUT: Readonly<Record<string, string>> = {
  'prefer-robust-stmts':
    'dbshift runs each file in a transaction, so a failed file leaves nothing to trip over on the retry; a no-transaction (CONCURRENTLY) file that fails is marked dirty and its INVALID index is named with the fix. IF NOT EXISTS would instead hide a schema that is not what the chain says.',
  'require-table-schema': 'opt-in in squawk too: which schema a table lands in is the search_path of the role that migrates, a project decision, not a production hazard.',
  'require-enum-value-ordering': 'where a new enum value sorts is a modelling choice, not a hazard to the running database (ADD VALUE takes no long lock).',
};
