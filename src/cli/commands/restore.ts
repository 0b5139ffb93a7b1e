import type { Command } from 'commander';
import { restore } from '../../api/restore.js';
import { databaseArgument, pathArgument, sqlitePath } from '../arguments.js';
import { configFrom, runAndReport, type CliIo } from '../io.js';
import { isPostgresUrl } from '../../engine/drivers/postgres/connection.js';
import { postgresUrl, runPostgresRestore } from '../postgres.js';

export function registerRestore(program: Command, io: CliIo): void {
  program
    .command('restore')
    .argument('[backup]', 'the backup to restore (default: the newest verified backup of the target, e.g. app_backup_* for app.db)')
    .description('Roll back: check the backup (SHA-256, quick_check), move the current target into the backups, copy the backup in atomically.')
    .option('--to <path>', 'where to restore (default: $DATABASE, else $DATABASE_URL, else instance/health_records.db), or a postgres:// URL for a pg_dump backup')
    .option('--clean', 'PostgreSQL: restore into a database that is not empty (pg_restore --clean --if-exists)')
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (backup: string | undefined, flags: { to?: string; json?: boolean; clean?: boolean }) => {
      // --to, else DATABASE / DATABASE_URL: a pg_dump backup goes back into PostgreSQL.
      const postgresTo = flags.to !== undefined ? (isPostgresUrl(flags.to) ? flags.to : undefined) : postgresUrl(io, {});
      if (postgresTo) return runPostgresRestore(io, backup, postgresTo, flags);
      const config = configFrom(io);
      const targets = {
        ...(backup !== undefined ? { backup: pathArgument(io, backup, 'the backup argument') } : {}),
        // --to, else the database the versioned commands use (DATABASE, DATABASE_URL), else instance/health_records.db.
        to: flags.to !== undefined ? databaseArgument(io, flags.to, '--to') : sqlitePath(config.database),
      };
      await runAndReport(io, 'restore', !!flags.json, (options) => restore({ ...options, config, ...targets }));
    });
}
