import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { lint, type LintResult } from '../../api/lint.js';
import { engineOptions, errorLines, report, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { renderFindings } from '../render-engine.js';

interface LintFlags extends EngineFlags {
  dialect?: 'sqlite' | 'postgres';
  pending?: boolean;
  embedded?: boolean;
  verbose?: boolean;
}

export function registerLint(program: Command, io: CliIo): void {
  withEngineOptions(program.command('lint'), 'reads')
    .description('Check SQL migrations for SQLite pitfalls, or PostgreSQL\'s (its parser and a model of the schema the migrations build; with a postgres:// --database also a replay on a scratch database there): file, line, rule and a one-line fix for each, on stdout. Exit 65 on an error-level finding. Rules, `-- dbshift:ignore RULE reason` and dbshift.lint.json: docs/lint.md.')
    .option('--dialect <name>', 'sqlite or postgres (default: postgres for a postgres:// --database, else sqlite)')
    .option('--pending', 'judge only the migrations --database has not applied yet (the earlier ones still build the schema)')
    .option('--embedded', 'postgres without a server: also replay the statements on PostgreSQL embedded in dbshift (PGlite; slow, hundreds of MB)')
    .option('-v, --verbose', 'also the rules each -- dbshift:ignore comment silenced, with its reason, and the project file read')
    .action(async (flags: LintFlags) => {
      if (flags.dialect !== undefined && flags.dialect !== 'sqlite' && flags.dialect !== 'postgres') {
        throw new UsageError('bad-dialect', `--dialect takes sqlite or postgres, got "${flags.dialect}".`);
      }
      const result = await lint({
        ...engineOptions(io, flags),
        ...(flags.dialect ? { dialect: flags.dialect } : {}),
        ...(flags.pending ? { pending: true } : {}),
        ...(flags.embedded ? { embedded: true } : {}),
      });
      // The findings are the report (stdout, for a CI to keep); lint failing to run is an error (stderr).
      report(io, flags.json, result, (r) => renderLint(r, !!flags.verbose), 'lint', result.ok || result.error?.code === 'lint-findings');
    });
}

function renderLint(r: LintResult, verbose: boolean): string[] {
  if (!r.ok && r.error?.code !== 'lint-findings') return [`dbshift lint: FAILED (exit ${r.error?.exitCode ?? 1})`, ...errorLines(r.error)];
  const warnings = r.findings.filter((f) => f.level === 'warning').length;
  const errors = r.findings.length - warnings;
  const counts = [errors > 0 ? `${errors} findings` : '', warnings > 0 ? `${warnings} warnings` : ''].filter(Boolean).join(', ');
  const verdict = r.ok ? (warnings > 0 ? `OK (${counts})` : 'OK') : `${counts} (exit 65)`;
  const scope = r.judged ? ` (pending only: ${r.judged.length === 0 ? 'none' : r.judged.join(', ')})` : '';
  const lines = [`dbshift lint: ${verdict} in ${r.migrations}${scope}`, ...renderFindings(r.findings)];
  if (verbose) {
    if (r.settingsFile) lines.push(`  Settings: ${r.settingsFile}`);
    for (const s of r.suppressed) lines.push(`  ignored ${s.file}:${s.line}  [${s.rules.join(', ')}] ${s.silenced} finding${s.silenced === 1 ? '' : 's'}: ${s.reason}`);
  }
  return [...lines, ...r.notices.map((n) => `  ${n}`)];
}
