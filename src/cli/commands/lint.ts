import type { Command } from 'commander';
import { lint } from '../../api/lint.js';
import { engineOptions, errorLines, report, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { renderFindings } from '../render-engine.js';
import { postgresLintFindings, postgresUrl } from '../postgres.js';

export function registerLint(program: Command, io: CliIo): void {
  withEngineOptions(program.command('lint'))
    .description('Check SQL migrations for SQLite pitfalls, or with --database postgres://… PostgreSQL\'s (its parser, then a replay on a scratch database); file, line, rule and a one-line fix for each. Exit 65 on findings.')
    .action(async (flags: EngineFlags) => {
      report(io, flags.json, await lint(engineOptions(io, flags)), (r) =>
        r.ok || r.error?.code === 'lint-findings'
          ? [`dbshift lint: ${r.ok ? 'OK' : `${r.findings.length} findings (exit 65)`} in ${r.migrations}`, ...renderFindings(r.findings)]
          : [`dbshift lint: FAILED (exit ${r.error?.exitCode ?? 1})`, ...errorLines(r.error)],
      );
    });
}

async function sqliteFindings(io: CliIo, flags: EngineFlags) {
  const set = await migrationSet(io, flags);
  return { migrations: set.source, findings: lintMigrations(set) };
}
