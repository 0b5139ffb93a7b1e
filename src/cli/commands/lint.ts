import type { Command } from 'commander';
import { lintMigrations } from '../../engine/lint.js';
import { migrationSet, report, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { renderFindings } from '../render-engine.js';

export function registerLint(program: Command, io: CliIo): void {
  withEngineOptions(program.command('lint'))
    .description('Check SQL migrations for SQLite pitfalls (file, line, rule and a one-line fix for each). Exit 65 on findings.')
    .action(async (flags: EngineFlags) => {
      const set = await migrationSet(io, flags);
      const findings = lintMigrations(set);
      const result = {
        ok: findings.length === 0,
        command: 'lint',
        migrations: set.source,
        findings,
        ...(findings.length > 0 ? { error: { code: 'lint-findings', message: `${findings.length} lint findings.`, exitCode: 65 } } : {}),
      };
      report(io, flags.json, result, (r) => [`dbshift lint: ${r.ok ? 'OK' : `${r.findings.length} findings (exit 65)`} in ${r.migrations}`, ...renderFindings(r.findings)]);
    });
}
