import type { Command } from 'commander';
import { verify } from '../../api/verify.js';
import { databaseArgument, pathArgument, sqlitePath } from '../arguments.js';
import { configFrom, runAndReport, type CliIo } from '../io.js';

export function registerVerify(program: Command, io: CliIo): void {
  program
    .command('verify')
    .argument('[db]', 'the database (default: $DATABASE, else $DATABASE_URL, else instance/health_records.db)')
    .description('Verify a database, read-only: a v5 HealthSum database fully (with --against, every pre-existing value against the backup); any other: integrity, foreign keys, schema_migrations and (with --dir) the applied migrations\' checksums.')
    .option('--against <backup>', 'the pre-migration backup to compare with (v5 databases)')
    .option('--dir <path>', 'the migrations directory: check that applied migrations\' files are unchanged')
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (db: string | undefined, flags: { against?: string; dir?: string; json?: boolean }) => {
      const config = configFrom(io);
      // Checked here, so that a bad argument's message names it as typed.
      const targets = {
        database: db !== undefined ? databaseArgument(io, db, 'the database argument') : sqlitePath(config.database),
        ...(flags.against !== undefined ? { against: pathArgument(io, flags.against, '--against') } : {}),
        ...(flags.dir !== undefined ? { dir: configFrom(io, { dir: flags.dir }).migrationsDir } : {}),
      };
      await runAndReport(io, 'verify', !!flags.json, (options) => verify({ ...options, config, ...targets }));
    });
}
