import type { Command } from 'commander';
import { restore } from '../../pipeline/restore.js';
import { databaseArgument, pathArgument } from '../arguments.js';
import { configFrom, runAndReport, type CliIo } from '../io.js';

export function registerRestore(program: Command, io: CliIo): void {
  program
    .command('restore')
    .argument('[backup]', 'the backup to restore (default: the newest in the backup directory)')
    .description('Roll back: check the backup (SHA-256, quick_check), move the current target into the backups, copy the backup in atomically.')
    .option('--to <path>', 'where to restore (default: instance/health_records.db)')
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (backup: string | undefined, flags: { to?: string; json?: boolean }) => {
      const config = configFrom(io);
      const targets = {
        ...(backup !== undefined ? { backup: pathArgument(io, backup, 'the backup argument') } : {}),
        ...(flags.to !== undefined ? { to: databaseArgument(io, flags.to, '--to') } : {}),
      };
      await runAndReport(io, 'restore', !!flags.json, (options) => restore(config, targets, options));
    });
}
