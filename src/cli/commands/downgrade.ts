import type { Command } from 'commander';
import { withEngineOptions } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { alembicTarget } from './upgrade.js';
import { ALL, DRY_RUN, NO_BACKUP, runVersionsCommand, type VersionsFlags } from './versioned.js';

export function registerDowngrade(program: Command, io: CliIo): void {
  withEngineOptions(program.command('downgrade').argument('<revision>', '-N, a version, a file stem, a name, or base'))
    .description('Alembic-style: downgrade -N = down N, downgrade REV = down to that migration, downgrade base = down --all. Never goes up.')
    .option(...ALL)
    .option(...DRY_RUN)
    .option(...NO_BACKUP)
    .action(async (revision: string, flags: VersionsFlags & { all?: boolean }) => {
      await runVersionsCommand(io, 'downgrade', alembicTarget('downgrade', revision, !!flags.all), flags);
    });
}
