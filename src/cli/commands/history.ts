import type { Command } from 'commander';
import { readStatus } from '../../engine/status.js';
import { engineConfig, migrationSet, report, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { renderStatus } from '../render-engine.js';

export function registerHistory(program: Command, io: CliIo): void {
  withEngineOptions(program.command('history'))
    .description('List every migration, applied and pending, with applied times, durations and checksums, then the log.')
    .action(async (flags: EngineFlags) => {
      report(io, flags.json, readStatus(engineConfig(io, flags), await migrationSet(io, flags), 'history'), (r) => renderStatus(r, true));
    });
}
