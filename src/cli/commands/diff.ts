import type { Command } from 'commander';
import { diff, type DiffOptions, type DiffResult } from '../../api/diff.js';
import { UsageError } from '../../errors.js';
import { engineOptions, errorLines, report, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { renderFindings } from '../render-engine.js';

export interface DiffFlags extends EngineFlags {
  message?: string;
  to?: string;
  from?: string;
  dialect?: string;
  check?: boolean;
  dryRun?: boolean;
  rename?: string[];
  renameTable?: string[];
  allowDrop?: boolean;
  backfill?: string[];
  allowRewrite?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The options `diff` and Alembic's `revision --autogenerate` share (revision has --dir and --json of its own). */
export function withDiffOptions(command: Command): Command {
  return command
    .option('--to <schema>', 'DESIRED: a .sql file, a directory of .sql files, a SQLite file or a postgres:// URL (e.g. the database your ORM created with create_all)')
    .option('--from <database>', 'CURRENT from this live database instead of what the migrations in --dir build')
    .option('--dialect <name>', 'sqlite or postgres (default: postgres when --database, --to or --from is a postgres:// URL)')
    .option('--check', 'write nothing; exit 0 when in sync, 65 when not (CI; Alembic: check)')
    .option('--dry-run', 'plan and prove, print the SQL, write nothing')
    .option('--rename <table.old=new>', 'a column that was renamed, not dropped and added: its values stay (repeatable)', collect)
    .option('--rename-table <old=new>', 'a table that was renamed: its rows stay (repeatable)', collect)
    .option('--allow-drop', 'drop the tables and columns the desired schema no longer has (their data is deleted; the document names each)')
    .option('--backfill <table.column=sql>', 'the value of a new NOT NULL column without a DEFAULT on existing rows (repeatable)', collect)
    .option('--allow-rewrite', 'PostgreSQL: write a column type change as ALTER COLUMN TYPE (rewrites the table under an ACCESS EXCLUSIVE lock)')
    .option('--database <url>', 'PostgreSQL: the server that hosts the scratch databases (a postgres:// URL; env DATABASE, then DATABASE_URL)');
}

function renderDiff(r: DiffResult, dryRun: boolean): string[] {
  if (!r.ok && r.error?.code !== 'diff-undecided' && r.error?.code !== 'schema-differs') return [`dbshift diff: FAILED (exit ${r.error?.exitCode ?? 1})`, ...errorLines(r.error)];
  const verdict = r.inSync
    ? 'in sync (nothing to write)'
    : r.status === 'written'
      ? `wrote ${r.generated.length} migration${r.generated.length === 1 ? '' : 's'}, proven by replay (up, then down)`
      : r.status === 'planned'
        ? 'DRY RUN, proven by replay (nothing written)'
        : `FAILED (exit ${r.error?.exitCode ?? 65})`;
  const lines = [`dbshift diff: ${verdict}`];
  if (r.findings.length > 0) {
    lines.push(`  ${r.error?.message ?? ''}`, `  ${r.error?.dataState ?? ''}`, '', '  Undecided');
    for (const f of r.findings) lines.push(`    [${f.code}] ${f.message}`, `        ${f.hint}`);
    return lines;
  }
  if (r.changes.length > 0) lines.push('', '  Changes', ...r.changes.map((c) => `    ${r.dialect === 'postgres' ? `${c.phase.padEnd(12)} ` : ''}${c.summary}`));
  if (r.dataLoss.length > 0) lines.push('', `  Data loss: ${r.dataLoss.join(', ')} (named in the document)`);
  if (r.error) lines.push('', ...errorLines(r.error));
  if (r.files.length > 0) lines.push('', '  Files', ...r.files.map((f) => `    ${f}`));
  if (r.status === 'written') {
    const errors = r.lint.filter((f) => f.level !== 'warning').length;
    const warnings = r.lint.length - errors;
    const said = r.lint.length === 0 ? 'no findings' : `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}${errors > 0 ? ' (decide before `dbshift up`)' : ''}`;
    lines.push('', `  dbshift lint: ${said} in these files`, ...renderFindings(r.lint));
  }
  if (dryRun) for (const m of r.generated) lines.push('', `  ${m.label}.up.sql`, ...m.up.trimEnd().split('\n').map((l) => `    ${l}`), '', `  ${m.label}.down.sql`, ...m.down.trimEnd().split('\n').map((l) => `    ${l}`));
  return lines;
}

/** Run diff from the flags (both spellings) and print the result. */
export async function diffFromFlags(io: CliIo, flags: DiffFlags): Promise<void> {
  if (!flags.to) throw new UsageError('no-desired-schema', 'diff needs --to: the desired schema (a .sql file, a directory of them, a SQLite file or a postgres:// URL).', { hint: 'e.g. dbshift diff -m add_email --to schema.sql' });
  if (flags.dialect !== undefined && flags.dialect !== 'sqlite' && flags.dialect !== 'postgres') throw new UsageError('bad-dialect', `--dialect takes sqlite or postgres, got "${flags.dialect}".`);
  const { config, cwd, signal, postgres } = engineOptions(io, flags);
  const options: DiffOptions = {
    config,
    cwd,
    signal,
    ...(postgres ? { postgres } : {}),
    to: flags.to,
    ...(flags.from !== undefined ? { from: flags.from } : {}),
    ...(flags.message !== undefined ? { name: flags.message } : {}),
    ...(flags.dialect ? { dialect: flags.dialect as 'sqlite' | 'postgres' } : {}),
    ...(flags.check ? { check: true } : {}),
    ...(flags.dryRun ? { dryRun: true } : {}),
    ...(flags.rename ? { rename: flags.rename } : {}),
    ...(flags.renameTable ? { renameTable: flags.renameTable } : {}),
    ...(flags.backfill ? { backfill: flags.backfill } : {}),
    ...(flags.allowDrop ? { allowDrop: true } : {}),
    ...(flags.allowRewrite ? { allowRewrite: true } : {}),
  };
  if (!flags.check && !flags.dryRun && flags.message === undefined) throw new UsageError('no-name', 'diff writes a migration and needs its name: -m NAME (or --check, --dry-run).');
  report(io, flags.json, await diff(options), (r) => renderDiff(r, !!flags.dryRun));
}

export function registerDiff(program: Command, io: CliIo): void {
  withDiffOptions(program.command('diff'))
    .option('--dir <path>', 'the migrations directory (env MIGRATIONS_DIR; default migrations)')
    .option('--json', 'print exactly one JSON object on stdout')
    .description('Write the next migration from a desired schema (Alembic: revision --autogenerate): compare it with what the migrations build, prove up and down by replay on a scratch copy, then write NNNNNN_name.up.sql, .down.sql and .md. Renames are never guessed. Exit 65 when something needs deciding, or with --check when not in sync.')
    .option('-m, --message <name>', 'the migration\'s name, e.g. add_user_email')
    .action(async (flags: DiffFlags) => diffFromFlags(io, flags));
}
