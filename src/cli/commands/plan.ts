import type { Command } from 'commander';
import { plan } from '../../api/plan.js';
import { configFrom, runAndReport, type CliIo } from '../io.js';

export function registerPlan(program: Command, io: CliIo): void {
  program
    .command('plan')
    .description('Preflight only, writes nothing: schema state, what will be added, row counts, every warning, space needed.')
    .option('--source <path>', 'the database to inspect (default: $SOURCE_DB, else instance/health_records_old.db)')
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (flags: { source?: string; json?: boolean }) => {
      const config = configFrom(io, flags);
      await runAndReport(io, 'plan', !!flags.json, (options) => plan({ ...options, config }));
    });
}
