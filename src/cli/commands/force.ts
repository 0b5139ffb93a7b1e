import type { Command } from 'commander';
import { force } from '../../api/force.js';
import { engineOptions, report, revisionArgument, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { renderForce } from '../render-engine.js';

export function registerForce(program: Command, io: CliIo): void {
  withEngineOptions(program.command('force').alias('stamp').argument('<V>', 'the version the database really is at: a number (0: nothing applied), a file stem, a name, head or base'))
    .description('Mark the database clean at version V after you finished or undid a failed no-transaction migration by hand. Runs nothing. Alembic: stamp.')
    .action(async (version: string, flags: EngineFlags) => {
      // A version, a file stem or a name; Alembic's stamp also says `head` and `base`.
      const revision = version === 'head' || version === 'base' ? version : revisionArgument(version, 'V');
      report(io, flags.json, await force({ ...engineOptions(io, flags), version: revision }), renderForce);
    });
}
