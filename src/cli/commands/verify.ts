import path from 'node:path';
import type { Command } from 'commander';
import { verifyDatabase } from '../../pipeline/verify-database.js';
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
        database: db ? path.resolve(io.cwd, db) : config.targetDb,
        ...(flags.against ? { against: path.resolve(io.cwd, flags.against) } : {}),
      };
      await runAndReport(io, 'verify', !!flags.json, (options) => verifyDatabase(config, targets, options));
    });
}
