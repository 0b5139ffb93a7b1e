import type { Command } from 'commander';
import { forceVersion } from '../../engine/force.js';
import { engineConfig, migrationSet, report, wholeNumber, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { renderForce } from '../render-engine.js';

export function registerForce(program: Command, io: CliIo): void {
  withEngineOptions(program.command('force').argument('<V>', 'the version the database really is at (0: nothing applied)'))
    .description('Mark the database clean at version V after you finished or undid a failed no-transaction migration by hand. Runs nothing.')
    .action(async (version: string, flags: EngineFlags) => {
      const result = await forceVersion(engineConfig(io, flags), await migrationSet(io, flags), wholeNumber(version, 'V'), { signal: io.signal });
      report(io, flags.json, result, renderForce);
    });
}
