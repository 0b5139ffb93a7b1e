import type { Command } from 'commander';
import { migrate } from '../../pipeline/migrate.js';
import { assertNotVersionedProject } from '../hints.js';
import { configFrom, runAndReport, type CliIo } from '../io.js';

export function registerMigrate(program: Command, io: CliIo): void {
  program
    .command('migrate')
    .description('Migrate the source database to health-records v5: preflight, snapshot, backup, atomic transform, verify, publish.')
    .option('--source <path>', 'the live database to migrate (default: $SOURCE_DB, else instance/health_records_old.db)')
    .option('--strict', 'treat any warning as fatal, before anything is written')
    .option('--rehearse', 'run everything on a temporary copy, verify it, discard it and report timings; instance/ and backups/ are not touched')
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (flags: { source?: string; strict?: boolean; rehearse?: boolean; json?: boolean }) => {
      const config = configFrom(io, flags);
      assertNotVersionedProject(config, io.cwd);
      await runAndReport(io, flags.rehearse ? 'migrate --rehearse' : 'migrate', !!flags.json, (options) =>
        migrate(config, { ...options, strict: !!flags.strict, rehearse: !!flags.rehearse }),
      );
    });
}
