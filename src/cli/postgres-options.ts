import type { Command } from 'commander';

// Options only the PostgreSQL driver uses, on every versioned command (SQLite ignores them).

export function withPostgresOptions(command: Command): Command {
  return command
    .option('--wait [seconds]', 'PostgreSQL: wait for another run\'s migration lock (default 300 s) instead of exiting 75')
    .option('--lock-timeout <ms>', 'PostgreSQL: lock_timeout for every migration statement (default 5000; 0 waits forever), retried 3 times')
    .option('--statement-timeout <ms>', 'PostgreSQL: statement_timeout for every migration statement (default: the server\'s)')
    .option('--migrations-table <name>', 'PostgreSQL: the version table, "table" or "schema.table" (default schema_migrations; golang-migrate\'s x-migrations-table works too)');
}

