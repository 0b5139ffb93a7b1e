import type { Command } from 'commander';
import { create } from '../../api/create.js';
import { errorLines, report, wholeNumber, type EngineFlags } from '../engine-io.js';
import { configFrom, type CliIo } from '../io.js';

export interface CreateFlags extends EngineFlags {
  ext: string;
  digits?: string;
  seq?: boolean;
  format?: string;
  tz?: string;
}

/** The options `create` and Alembic's `revision` share; golang-migrate's -ext/-dir/-seq/-digits map onto them. */
export function withCreateOptions(command: Command): Command {
  return command
    .option('--ext <ext>', 'sql or ts', 'sql')
    .option('--dir <path>', 'the migrations directory (env MIGRATIONS_DIR; default migrations)')
    .option('--seq', 'sequential numbers (the default, unless the newest version is a timestamp)')
    .option('--format <layout>', 'a timestamp version, golang-migrate\'s way: a Go layout (20060102150405), unix or unixNano')
    .option('--tz <zone>', 'the time zone of a timestamp version (default UTC)')
    .option('--digits <n>', 'zero-pad the number to n digits (default: as the existing files, else 6)')
    .option('--json', 'print exactly one JSON object on stdout');
}

export async function createFromFlags(io: CliIo, name: string, flags: CreateFlags): Promise<void> {
  const digits = flags.digits === undefined ? undefined : wholeNumber(flags.digits, '--digits');
  const config = configFrom(io, flags.dir !== undefined ? { dir: flags.dir } : {});
  const timestamp = flags.format !== undefined || flags.tz !== undefined ? { ...(flags.format !== undefined ? { format: flags.format } : {}), ...(flags.tz !== undefined ? { tz: flags.tz } : {}) } : undefined;
  const result = await create({ config, cwd: io.cwd, name, ext: flags.ext as 'sql' | 'ts', ...(digits === undefined ? {} : { digits }), ...(timestamp ? { timestamp } : {}), ...(flags.seq ? { seq: true } : {}) });
  report(io, flags.json, result, (r) =>
    r.ok ? [`dbshift create: version ${r.version}`, ...r.files.map((f) => `  ${f}`)] : [`dbshift create: FAILED (exit ${r.error?.exitCode ?? 1})`, ...errorLines(r.error)],
  );
}

export function registerCreate(program: Command, io: CliIo): void {
  withCreateOptions(
    program
      .command('create')
      .argument('<name>', 'what the migration does, e.g. add_user_email')
      .description('Write the next migration: NNNNNN_name.up.sql + .down.sql (or .ts) and the NNNNNN_name.md document. Alembic: revision -m.'),
  ).action(async (name: string, flags: CreateFlags) => createFromFlags(io, name, flags));
}
