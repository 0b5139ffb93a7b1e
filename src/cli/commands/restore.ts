import type { Command } from 'commander';
import { restore } from '../../api/restore.js';
import { parseDatabaseLocation } from '../../database-url.js';
import { pathArgument } from '../arguments.js';
import { configFrom, runAndReport, type CliIo } from '../io.js';

export function registerRestore(program: Command, io: CliIo): void {
  program
    .command('restore')
    .argument('[backup]', 'the backup to restore (default: the newest verified backup of the target, e.g. app_backup_* for app.db)')
    .description('Roll back: check the backup (SHA-256, quick_check), move the current target into the backups, copy the backup in atomically.')
    .option('--to <path>', 'where to restore (default: $DATABASE, else $DATABASE_URL, else instance/health_records.db), or a postgres:// URL for a pg_dump backup')
    .option('--clean', 'PostgreSQL: replace what a database that is not empty holds by the backup (its current content is dumped into the backups first; every schema is dropped and the backup restored, in one transaction)')
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (backup: string | undefined, flags: { to?: string; json?: boolean; clean?: boolean }) => {
      const config = configFrom(io);
      // Resolved here so that a mistake names the flag the operator typed.
      const to = flags.to !== undefined ? parseDatabaseLocation(flags.to, io.cwd, '--to') : undefined;
      await runAndReport(io, 'restore', !!flags.json, (options) =>
        restore({
          ...options,
          config,
          ...(backup !== undefined ? { backup: pathArgument(io, backup, 'the backup argument') } : {}),
          ...(to ? { to: to.kind === 'postgres' ? to.url : to.path } : {}),
          clean: !!flags.clean,
          postgres: { env: io.env },
        }),
      );
    });
}
