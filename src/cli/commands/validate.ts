import type { Command } from 'commander';
import { validate } from '../../api/validate.js';
import { engineOptions, report, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { renderValidate } from '../render-engine.js';

export function registerValidate(program: Command, io: CliIo): void {
  withEngineOptions(program.command('validate'), 'reads')
    .description('Check the migrations against the database: applied files unchanged and present, order, gaps, documents, down files, lint.')
    .option('--strict', 'fail on warnings too')
    .action(async (flags: EngineFlags & { strict?: boolean }) => {
      report(io, flags.json, await validate({ ...engineOptions(io, flags), strict: !!flags.strict }), renderValidate);
    });
}
