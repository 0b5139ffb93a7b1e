import type { Command } from 'commander';
import { readStatus } from '../../engine/status.js';
import type { MigrationSet } from '../../engine/types.js';
import { engineConfig, migrationSet, report, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { renderStatus } from '../render-engine.js';

export function registerVersion(program: Command, io: CliIo): void {
  withEngineOptions(program.command('version').alias('current'))
    .description('Print the database\'s migration version and name, and DIRTY if a migration failed half-way. Alembic: current.')
    .action(async (flags: EngineFlags) => {
      // The version lives in the database alone; the files only add a name, so they may be absent.
      let set: MigrationSet | undefined;
      try {
        set = await migrationSet(io, flags);
      } catch {
        set = undefined;
      }
      report(io, flags.json, readStatus(engineConfig(io, flags), set, 'version'), (r) => renderStatus(r, false));
    });
}
