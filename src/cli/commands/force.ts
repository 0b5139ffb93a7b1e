import type { Command } from 'commander';
import { forceVersion } from '../../engine/force.js';
import { resolveRevision } from '../../engine/plan.js';
import type { MigrationSet } from '../../engine/types.js';
import { engineConfig, migrationSet, report, revisionArgument, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { renderForce } from '../render-engine.js';

/** A version, a file stem or a name; Alembic's stamp also says `head` (the newest migration) and `base` (0). */
function stampedVersion(set: MigrationSet, revision: string): number {
  if (revision === 'base') return 0;
  if (revision === 'head') return Math.max(0, ...set.migrations.map((m) => m.version));
  const parsed = revisionArgument(revision, 'V');
  return typeof parsed === 'number' ? parsed : resolveRevision(set.migrations, parsed);
}

export function registerForce(program: Command, io: CliIo): void {
  withEngineOptions(program.command('force').alias('stamp').argument('<V>', 'the version the database really is at: a number (0: nothing applied), a file stem, a name, head or base'))
    .description('Mark the database clean at version V after you finished or undid a failed no-transaction migration by hand. Runs nothing. Alembic: stamp.')
    .action(async (version: string, flags: EngineFlags) => {
      const config = engineConfig(io, flags);
      const set = await migrationSet(io, flags);
      const result = await forceVersion(config, set, stampedVersion(set, version), { signal: io.signal });
      report(io, flags.json, result, renderForce);
    });
}
