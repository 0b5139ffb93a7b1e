import type { Command } from 'commander';
import { revisionArgument, withEngineOptions } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { ALL, DRY_RUN, NO_BACKUP, runVersionsCommand, type VersionsFlags } from './versioned.js';

export function registerGoto(program: Command, io: CliIo): void {
  withEngineOptions(program.command('goto').argument('<V>', 'the version (or file stem, or name) to end at; 0: nothing applied, needs --all'))
    .description('Migrate up or down until the database is at version V; backup first.')
    .option(...ALL)
    .option(...DRY_RUN)
    .option(...NO_BACKUP)
    .action(async (version: string, flags: VersionsFlags & { all?: boolean }) => {
      await runVersionsCommand(io, 'goto', { kind: 'goto', version: revisionArgument(version, 'V'), all: !!flags.all }, flags);
    });
}
