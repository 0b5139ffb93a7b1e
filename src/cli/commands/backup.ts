import type { Command } from 'commander';
import { backup } from '../../api/backup.js';
import { configFrom, runAndReport, type CliIo } from '../io.js';

export function registerBackup(program: Command, io: CliIo): void {
  program
    .command('backup')
    .description('Take a timestamped, checksummed backup of the source only (SQLite online backup API).')
    .option('--source <path>', 'the database to back up (default: $SOURCE_DB, else instance/health_records_old.db)')
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (flags: { source?: string; json?: boolean }) => {
      const config = configFrom(io, flags);
      await runAndReport(io, 'backup', !!flags.json, (options) => backup({ ...options, config }));
    });
}
