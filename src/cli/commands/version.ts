import type { Command } from 'commander';
import { status } from '../../api/status.js';
import { engineOptions, report, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { renderStatus } from '../render-engine.js';

export function registerVersion(program: Command, io: CliIo): void {
  withEngineOptions(program.command('version').alias('current'), 'reads')
    .description('Print the database\'s migration version and name, and DIRTY if a migration failed half-way. Alembic: current.')
    .action(async (flags: EngineFlags) => {
      report(io, flags.json, await status(engineOptions(io, flags)), (r) => renderStatus(r, false));
    });
}
