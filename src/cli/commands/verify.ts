import type { Command } from 'commander';
import { verifyDatabase } from '../../pipeline/verify-database.js';
import { databaseArgument, pathArgument } from '../arguments.js';
import { configFrom, runAndReport, type CliIo } from '../io.js';

export function registerVerify(program: Command, io: CliIo): void {
  program
    .command('verify')
    .argument('[db]', 'the migrated database (default: instance/health_records.db)')
    .description('Verify an already migrated database (read-only); with --against, also compare every pre-existing value with the backup.')
    .option('--against <backup>', 'the pre-migration backup to compare with')
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (db: string | undefined, flags: { against?: string; json?: boolean }) => {
      const config = configFrom(io);
      const targets = {
        database: db !== undefined ? databaseArgument(io, db, 'the database argument') : config.targetDb,
        ...(flags.against !== undefined ? { against: pathArgument(io, flags.against, '--against') } : {}),
      };
      await runAndReport(io, 'verify', !!flags.json, (options) => verifyDatabase(config, targets, options));
    });
}
