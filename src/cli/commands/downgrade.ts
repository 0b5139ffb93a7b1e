import type { Command } from 'commander';
import { withEngineOptions } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { alembicTarget } from './upgrade.js';
import { DRY_RUN, NO_BACKUP, runVersionsCommand, type VersionsFlags } from './versioned.js';

export function registerDowngrade(program: Command, io: CliIo): void {
  withEngineOptions(program.command('downgrade').argument('<revision>', '-N, a version, or base'))
    .description('Alembic-style alias: downgrade -N = down N, downgrade V = goto V (downwards), downgrade base = down --all.')
    .option(...DRY_RUN)
    .option(...NO_BACKUP)
    .action(async (revision: string, flags: VersionsFlags) => {
      await runVersionsCommand(io, 'downgrade', alembicTarget('downgrade', revision), flags);
    });
}
