import type { Command } from 'commander';
import { withEngineOptions, wholeNumber } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { DRY_RUN, NO_BACKUP, runVersionsCommand, type VersionsFlags } from './versioned.js';

export function registerGoto(program: Command, io: CliIo): void {
  withEngineOptions(program.command('goto').argument('<V>', 'the version to end at (0: nothing applied)'))
    .description('Migrate up or down until the database is at version V; backup first.')
    .option(...DRY_RUN)
    .option(...NO_BACKUP)
    .action(async (version: string, flags: VersionsFlags) => {
      await runVersionsCommand(io, 'goto', { kind: 'goto', version: wholeNumber(version, 'V') }, flags);
    });
}
