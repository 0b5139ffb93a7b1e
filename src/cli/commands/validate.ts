import type { Command } from 'commander';
import { validateMigrations } from '../../engine/validate.js';
import { engineConfig, migrationSet, report, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { renderValidate } from '../render-engine.js';

export function registerValidate(program: Command, io: CliIo): void {
  withEngineOptions(program.command('validate'))
    .description('Check the migrations against the database: applied files unchanged and present, order, gaps, documents, down files, lint.')
    .option('--strict', 'fail on warnings too')
    .action(async (flags: EngineFlags & { strict?: boolean }) => {
      const result = validateMigrations(engineConfig(io, flags), await migrationSet(io, flags), { strict: !!flags.strict, docs: !flags.set });
      report(io, flags.json, result, renderValidate);
    });
}
