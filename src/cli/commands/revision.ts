import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { createFromFlags, withCreateOptions, type CreateFlags } from './create.js';

/** Alembic's `revision -m "add tasks"`: the same files as `dbshift create add_tasks`. */
export function registerRevision(program: Command, io: CliIo): void {
  withCreateOptions(
    program
      .command('revision')
      .description('Alembic-style alias of create: revision -m "add tasks" writes NNNNNN_add_tasks.up.sql, .down.sql and .md.')
      .requiredOption('-m, --message <message>', 'what the migration does; becomes its name'),
  ).action(async (flags: CreateFlags & { message: string }) => createFromFlags(io, flags.message, flags));
}
