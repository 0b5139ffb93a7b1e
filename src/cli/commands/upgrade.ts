import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { Target } from '../../engine/plan.js';
import { revisionArgument, withEngineOptions } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { DRY_RUN, NO_BACKUP, runVersionsCommand, type VersionsFlags } from './versioned.js';

/**
 * Alembic's words: `upgrade head | +N | REV` and `downgrade -N | REV | base`, where REV is a
 * version, a file stem or a migration name. The direction is part of the word: the planner
 * refuses an upgrade that would go down and a downgrade that would go up.
 */
export function alembicTarget(direction: 'upgrade' | 'downgrade', revision: string, all = false): Target {
  if (direction === 'upgrade' && revision === 'head') return { kind: 'up' };
  if (direction === 'downgrade' && revision === 'base') return { kind: 'down', all: true };
  const relative = /^([+-])(\d+)$/.exec(revision);
  if (relative) {
    if ((relative[1] === '+') !== (direction === 'upgrade')) {
      throw new UsageError('bad-revision', `${direction} ${revision}: use ${direction === 'upgrade' ? '+N' : '-N'} here.`);
    }
    const count = Number(relative[2]);
    // Alembic moves exactly N revisions or fails; golang-migrate's `up N` applies at most N.
    return direction === 'upgrade' ? { kind: 'up', count, relative: revision } : { kind: 'down', count, all, relative: revision };
  }
  return { kind: 'goto', version: revisionArgument(revision, 'the revision'), only: direction === 'upgrade' ? 'up' : 'down', all };
}

export function registerUpgrade(program: Command, io: CliIo): void {
  withEngineOptions(program.command('upgrade').argument('<revision>', 'head, +N, a version, a file stem (000002_add_tasks) or a name (add_tasks)'))
    .description('Alembic-style: upgrade head = up, upgrade +N = up N, upgrade REV = up to that migration. Never goes down.')
    .option(...DRY_RUN)
    .option(...NO_BACKUP)
    .action(async (revision: string, flags: VersionsFlags) => {
      await runVersionsCommand(io, 'upgrade', alembicTarget('upgrade', revision), flags);
    });
}
