import path from 'node:path';
import type { Command } from 'commander';
import { importAlembic } from '../../engine/import-alembic.js';
import { UsageError } from '../../errors.js';
import { resultError } from '../../results.js';
import { errorLines, report } from '../engine-io.js';
import type { CliIo } from '../io.js';

// `dbshift import alembic [--config alembic.ini] --dir DIR`: Alembic's revision chain as numbered
// SQL migrations, translated by Alembic itself (offline mode). Then `dbshift adopt` takes over
// the database Alembic migrated.

interface ImportFlags {
  config: string;
  dir: string;
  python: string;
  json?: boolean;
}

export function registerImport(program: Command, io: CliIo): void {
  program
    .command('import')
    .argument('<tool>', 'alembic (the only tool whose migrations are not SQL files dbshift runs as they are)')
    .description('Translate an Alembic project into numbered SQL migrations with Alembic itself (offline, --sql). Writes nothing if any revision cannot be translated.')
    .option('--config <file>', 'the project\'s alembic.ini', 'alembic.ini')
    .requiredOption('--dir <path>', 'the new migrations directory (absent or empty)')
    .option('--python <path>', 'the Python interpreter that has Alembic installed', 'python3')
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (tool: string, flags: ImportFlags) => {
      if (tool !== 'alembic') throw new UsageError('unknown-tool', `dbshift imports alembic projects; ${tool}'s migrations run as they are (golang-migrate, dbmate) or are refused by name (Flyway: rename V2__x.sql to 000002_x.up.sql).`);
      let result;
      try {
        result = importAlembic({ config: path.resolve(io.cwd, flags.config), dir: path.resolve(io.cwd, flags.dir), python: flags.python });
      } catch (error) {
        result = { ok: false as const, command: 'import' as const, dir: path.resolve(io.cwd, flags.dir), revisions: [], error: resultError(error, 'Nothing was changed.') };
      }
      report(io, flags.json, result, (r) =>
        r.ok
          ? [`dbshift import alembic: OK (${r.revisions.length} revisions into ${r.dir})`, ...r.revisions.map((rev) => `  ${String(rev.version).padStart(6, '0')}  ${rev.revision}  ${rev.message.split('\n')[0]}`), '', '  Next: `dbshift adopt --dir DIR --database DB` on each database Alembic migrated.']
          : [`dbshift import alembic: FAILED (exit ${r.error?.exitCode ?? 1})`, ...errorLines(r.error)],
      );
    });
}
