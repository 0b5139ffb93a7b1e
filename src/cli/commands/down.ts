import type { Command } from 'commander';
import { withEngineOptions, wholeNumber } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { DRY_RUN, NO_BACKUP, runVersionsCommand, type VersionsFlags } from './versioned.js';

export function registerDown(program: Command, io: CliIo): void {
  withEngineOptions(program.command('down').argument('[N]', 'revert the last N applied migrations (default 1)'))
    .description('Revert applied migrations, newest first; backup first. Reverting all of them needs --all.')
    .option('--all', 'revert every applied migration (back to an empty schema history)')
    .option(...DRY_RUN)
    .option(...NO_BACKUP)
    .action(async (count: string | undefined, flags: VersionsFlags & { all?: boolean }) => {
      await runVersionsCommand(io, 'down', { kind: 'down', all: !!flags.all, ...(count === undefined ? {} : { count: wholeNumber(count, 'N') }) }, flags);
    });
}
