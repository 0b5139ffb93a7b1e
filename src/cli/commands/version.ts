import type { Command } from 'commander';
import { readStatus } from '../../engine/status.js';
import { engineConfig, report, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { renderStatus } from '../render-engine.js';

export function registerVersion(program: Command, io: CliIo): void {
  withEngineOptions(program.command('version').alias('current'))
    .description('Print the database\'s migration version (and "dirty" if a migration failed half-way). Alembic: current.')
    .action(async (flags: EngineFlags) => {
      // The version is in the database alone: no need to read (or even have) the migration files.
      report(io, flags.json, readStatus(engineConfig(io, flags), undefined, 'version'), (r) => renderStatus(r, false));
    });
}
