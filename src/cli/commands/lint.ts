import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { lint } from '../../api/lint.js';
import { engineOptions, errorLines, report, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { renderFindings } from '../render-engine.js';

export function registerLint(program: Command, io: CliIo): void {
  withEngineOptions(program.command('lint'))
    .description('Check SQL migrations for SQLite pitfalls, or PostgreSQL\'s (its parser, then a replay on a scratch database: on the --database server, or embedded); file, line, rule and a one-line fix for each. Exit 65 on findings.')
    .option('--dialect <name>', 'sqlite or postgres (default: postgres for a postgres:// --database, else sqlite); postgres without a server replays on PostgreSQL embedded in dbshift')
    .action(async (flags: EngineFlags & { dialect?: 'sqlite' | 'postgres' }) => {
      if (flags.dialect !== undefined && flags.dialect !== 'sqlite' && flags.dialect !== 'postgres') {
        throw new UsageError('bad-dialect', `--dialect takes sqlite or postgres, got "${flags.dialect}".`);
      }
      report(io, flags.json, await lint({ ...engineOptions(io, flags), ...(flags.dialect ? { dialect: flags.dialect } : {}) }), (r) =>
        r.ok || r.error?.code === 'lint-findings'
          ? [`dbshift lint: ${r.ok ? 'OK' : `${r.findings.length} findings (exit 65)`} in ${r.migrations}`, ...renderFindings(r.findings)]
          : [`dbshift lint: FAILED (exit ${r.error?.exitCode ?? 1})`, ...errorLines(r.error)],
      );
    });
}
