import type { Command } from 'commander';
import { withEngineOptions, wholeNumber } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { DRY_RUN, NO_BACKUP, runVersionsCommand, type VersionsFlags } from './versioned.js';

export function registerUp(program: Command, io: CliIo): void {
  withEngineOptions(program.command('up').argument('[N]', 'apply at most N pending migrations (default: all)'))
    .description('Apply pending migrations, each in one transaction with its bookkeeping; backup first.')
    .option(...DRY_RUN)
    .option(...NO_BACKUP)
    .option('--create', 'create the database file if it does not exist yet')
    .action(async (count: string | undefined, flags: VersionsFlags) => {
      await runVersionsCommand(io, 'up', { kind: 'up', ...(count === undefined ? {} : { count: wholeNumber(count, 'N') }) }, flags);
    });
}
