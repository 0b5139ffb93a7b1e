import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { createMigration } from '../../engine/create.js';
import { engineConfig, report, wholeNumber, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';

export interface CreateFlags extends EngineFlags {
  ext: string;
  digits?: string;
  seq?: boolean;
}

/** The options `create` and Alembic's `revision` share; golang-migrate's -ext/-dir/-seq/-digits map onto them. */
export function withCreateOptions(command: Command): Command {
  return command
    .option('--ext <ext>', 'sql or ts', 'sql')
    .option('--dir <path>', 'the migrations directory (env MIGRATIONS_DIR; default migrations)')
    .option('--seq', 'sequential numbers (accepted for golang-migrate scripts; dbshift always numbers sequentially)')
    .option('--digits <n>', 'zero-pad the number to n digits (default: as the existing files, else 6)')
    .option('--json', 'print exactly one JSON object on stdout');
}

export function createFromFlags(io: CliIo, name: string, flags: CreateFlags): void {
  if (flags.ext !== 'sql' && flags.ext !== 'ts') throw new UsageError('bad-ext', `--ext must be sql or ts, got "${flags.ext}".`);
  const digits = flags.digits === undefined ? undefined : wholeNumber(flags.digits, '--digits');
  const result = createMigration(engineConfig(io, flags).migrationsDir, name, { ext: flags.ext, ...(digits === undefined ? {} : { digits }) });
  report(io, flags.json, { ...result, command: 'create', status: 'created', notices: [] }, (r) => [`dbshift create: version ${r.version}`, ...r.files.map((f) => `  ${f}`)]);
}

export function registerCreate(program: Command, io: CliIo): void {
  withCreateOptions(
    program
      .command('create')
      .argument('<name>', 'what the migration does, e.g. add_user_email')
      .description('Write the next migration: NNNNNN_name.up.sql + .down.sql (or .ts) and the NNNNNN_name.md document. Alembic: revision -m.'),
  ).action(async (name: string, flags: CreateFlags) => createFromFlags(io, name, flags));
}
