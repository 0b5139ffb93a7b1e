import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { createFromFlags, withCreateOptions, type CreateFlags } from './create.js';
import { diffFromFlags, withDiffOptions, type DiffFlags } from './diff.js';

/** Alembic's `revision -m "add tasks"`: the same files as `dbshift create add_tasks`; with --autogenerate, `dbshift diff -m`. */
export function registerRevision(program: Command, io: CliIo): void {
  withDiffOptions(
    withCreateOptions(
      program
        .command('revision')
        .description('Alembic-style alias of create: revision -m "add tasks" writes NNNNNN_add_tasks.up.sql, .down.sql and .md; revision --autogenerate -m NAME --to SCHEMA is dbshift diff.')
        .requiredOption('-m, --message <message>', 'what the migration does; becomes its name')
        .option('--autogenerate', 'write the migration from a desired schema (--to), as dbshift diff does'),
    ),
  ).action(async (flags: CreateFlags & DiffFlags & { message: string; autogenerate?: boolean }) => (flags.autogenerate ? diffFromFlags(io, flags) : createFromFlags(io, flags.message, flags)));
}
