import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { Target } from '../../engine/plan.js';
import { withEngineOptions, wholeNumber } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { DRY_RUN, NO_BACKUP, runVersionsCommand, type VersionsFlags } from './versioned.js';

/** Alembic's words: `upgrade head | +N | V` and `downgrade -N | V | base`. */
export function alembicTarget(direction: 'upgrade' | 'downgrade', revision: string): Target {
  if (direction === 'upgrade' && revision === 'head') return { kind: 'up' };
  if (direction === 'downgrade' && revision === 'base') return { kind: 'down', all: true };
  const relative = /^([+-])(\d+)$/.exec(revision);
  if (relative) {
    if ((relative[1] === '+') !== (direction === 'upgrade')) {
      throw new UsageError('bad-revision', `${direction} ${revision}: use ${direction === 'upgrade' ? '+N' : '-N'} here.`);
    }
    const count = Number(relative[2]);
    return direction === 'upgrade' ? { kind: 'up', count } : { kind: 'down', count, mayEmpty: true };
  }
  return { kind: 'goto', version: wholeNumber(revision, 'the revision') };
}

export function registerUpgrade(program: Command, io: CliIo): void {
  withEngineOptions(program.command('upgrade').argument('<revision>', 'head, +N, or a version'))
    .description('Alembic-style alias: upgrade head = up, upgrade +N = up N, upgrade V = goto V (upwards).')
    .option(...DRY_RUN)
    .option(...NO_BACKUP)
    .action(async (revision: string, flags: VersionsFlags) => {
      await runVersionsCommand(io, 'upgrade', alembicTarget('upgrade', revision), flags);
    });
}
