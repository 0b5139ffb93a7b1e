import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { createMigration } from '../../engine/create.js';
import { engineConfig, report, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';

export function registerCreate(program: Command, io: CliIo): void {
  program
    .command('create')
    .argument('<name>', 'what the migration does, e.g. add_user_email')
    .description('Write the next migration: NNNNNN_name.up.sql + .down.sql (or .ts) and the NNNNNN_name.md document.')
    .option('--ext <ext>', 'sql or ts', 'sql')
    .option('--dir <path>', 'the migrations directory (env MIGRATIONS_DIR; default migrations)')
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (name: string, flags: EngineFlags & { ext: string }) => {
      if (flags.ext !== 'sql' && flags.ext !== 'ts') throw new UsageError('bad-ext', `--ext must be sql or ts, got "${flags.ext}".`);
      const result = createMigration(engineConfig(io, flags).migrationsDir, name, flags.ext);
      report(io, flags.json, { ...result, command: 'create', status: 'created', notices: [] }, (r) => [`dbshift create: version ${r.version}`, ...r.files.map((f) => `  ${f}`)]);
    });
}
