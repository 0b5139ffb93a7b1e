import type { Command } from 'commander';
import { history } from '../../api/status.js';
import { engineOptions, report, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { renderStatus } from '../render-engine.js';

export function registerHistory(program: Command, io: CliIo): void {
  withEngineOptions(program.command('history'), 'reads')
    .description('List every migration, applied and pending, with applied times, durations and checksums, then the log.')
    .option('-v, --verbose', 'also each migration\'s files, document, kind, transaction mode and reversibility, and the checksum of every logged run')
    .action(async (flags: EngineFlags & { verbose?: boolean }) => {
      report(io, flags.json, await history(engineOptions(io, flags)), (r) => renderStatus(r, true, !!flags.verbose));
    });
}
