import path from 'node:path';
import type { DiffEngine } from '../diff/engine.js';
import { loadMigrationDir } from '../engine/discover.js';
import { lintSqlite } from '../engine/lint.js';
import type { LintFinding } from '../engine/lint-registry.js';
import type { Finding, PlanOptions } from '../diff/plan.js';
import { runDiff, type DiffMode, type DiffOutcome } from '../diff/run.js';
import { openSqliteDiff } from '../diff/sqlite/engine.js';
import { ExitCode, UsageError } from '../errors.js';
import type { CommandResult } from '../results.js';
import { postgresUrlOf } from './database.js';
import { configOf, placesOf, settle, type MigrationsOptions, type Settled } from './options.js';

/** `dbshift diff`: the next migration, from a desired schema. */
export interface DiffOptions extends Omit<MigrationsOptions, 'backupDir' | 'busyTimeoutMs' | 'set'> {
  /** DESIRED: a .sql file or a directory of them, a SQLite file, or a postgres:// URL. */
  to: string;
  /** CURRENT from this live database instead of what the migrations in `dir` build. */
  from?: string;
  /** The migration's name (`-m`); default `schema_diff`. */
  name?: string;
  /** `sqlite` or `postgres` (default: postgres when `database`, `to` or `from` is a postgres:// URL). */
  dialect?: 'sqlite' | 'postgres';
  /** Write nothing: ok when in sync, exit code 65 when not (CI). */
  check?: boolean;
  /** Plan and prove, write nothing: the result carries the SQL. */
  dryRun?: boolean;
  /** Column renames, `table.old=new` (the table by its desired name): the values stay. */
  rename?: string[];
  /** Table renames, `old=new`: the rows stay. */
  renameTable?: string[];
  /** Drop tables and columns the desired schema no longer has (their data is deleted; the document names each). */
  allowDrop?: boolean;
  /** `table.column=SQL`: the value of a new NOT NULL column (without a default) on existing rows. */
  backfill?: string[];
  /** PostgreSQL: write column type changes as ALTER COLUMN TYPE (a table rewrite under an ACCESS EXCLUSIVE lock). */
  allowRewrite?: boolean;
}

export interface DiffResult extends CommandResult {
  status: DiffOutcome['status'] | 'failed';
  dialect: 'sqlite' | 'postgres';
  /** The migrations directory. */
  migrations: string;
  inSync: boolean;
  /** The replay proved up (CURRENT → DESIRED) and down (back) before anything was written. */
  proven: boolean;
  changes: Array<{ phase: string; summary: string }>;
  /** What diff will not decide alone (possible renames, drops, values for new NOT NULL columns): nothing is written while any is open. */
  findings: Finding[];
  /** The generated migrations (SQL included), in order. */
  generated: Array<{ label: string; transactional: boolean; up: string; down: string }>;
  files: string[];
  /** Tables and columns whose data the up migration deletes. */
  dataLoss: string[];
  /** `dbshift lint`'s findings in the files written (its rules, without the replay the proof already did); `level: 'warning'` ones never fail. */
  lint: LintFinding[];
}

/** `KEY=VALUE` options; SQLite's names compare without regard to case, PostgreSQL's keep it. */
function pairs(list: string[] | undefined, what: string, shape: RegExp, fold: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const name = (value: string) => (fold ? value.toLowerCase() : value);
  for (const item of list ?? []) {
    const at = item.indexOf('=');
    const key = name(item.slice(0, at).trim());
    if (at === -1 || !shape.test(key)) throw new UsageError('bad-option', `${what} takes ${shape === TABLE_COLUMN ? 'TABLE.COLUMN' : 'NAME'}=VALUE, got "${item}".`, { dataState: 'Nothing was changed.' });
    out[key] = what === '--backfill' ? item.slice(at + 1).trim() : name(item.slice(at + 1).trim());
  }
  return out;
}
// A table may be schema-qualified (PostgreSQL): the column is what follows the last dot.
const TABLE_COLUMN = /^[^=\s]+\.[^.=\s]+$/;
const NAME = /^[^.=\s]+(\.[^.=\s]+)?$/;

export function planOptionsOf(options: DiffOptions, dialect: 'sqlite' | 'postgres'): PlanOptions {
  const fold = dialect === 'sqlite';
  return {
    renameColumns: pairs(options.rename, '--rename', TABLE_COLUMN, fold),
    renameTables: pairs(options.renameTable, '--rename-table', NAME, fold),
    backfill: pairs(options.backfill, '--backfill', TABLE_COLUMN, fold),
    ...(options.allowDrop ? { allowDrop: true } : {}),
    ...(options.allowRewrite ? { allowRewrite: true } : {}),
  };
}

const isPg = (value: string | undefined) => value !== undefined && /^postgres(ql)?:\/\//i.test(value);

/** `dbshift diff` (Alembic: `revision --autogenerate`): compare, plan, prove by replay, write the next migration. */
export function diff(options: DiffOptions): Promise<Settled<DiffResult>> {
  const empty = (dialect: 'sqlite' | 'postgres', dir: string) => ({
    ok: false,
    command: 'diff',
    dialect,
    migrations: dir,
    inSync: false,
    proven: false,
    changes: [],
    findings: [],
    generated: [],
    files: [],
    dataLoss: [],
    lint: [],
  });
  return settle<DiffResult>(
    'diff',
    async () => {
      if (typeof options.to !== 'string' || options.to === '') throw new UsageError('no-desired-schema', 'diff needs the desired schema (--to): a .sql file, a directory of them, a SQLite file or a postgres:// URL.', { dataState: 'Nothing was changed.' });
      if (options.dialect !== undefined && options.dialect !== 'sqlite' && options.dialect !== 'postgres') {
        throw new UsageError('bad-dialect', `The dialect (--dialect) takes sqlite or postgres, got "${String(options.dialect)}".`);
      }
      if (options.check && options.dryRun) throw new UsageError('bad-option', '--check and --dry-run exclude each other.');
      const config = configOf(options);
      // A postgres:// database (option, DATABASE, DATABASE_URL) is the server for the scratch databases.
      const server = postgresUrlOf(config);
      const dialect = options.dialect ?? (isPg(options.to) || isPg(options.from) || server ? 'postgres' : 'sqlite');
      const cwd = options.cwd ?? process.cwd();
      const resolve = (p: string) => (isPg(p) ? p : path.resolve(cwd, p));
      const sources = { dir: config.migrationsDir, to: resolve(options.to), ...(options.from !== undefined ? { from: resolve(options.from) } : {}) };
      const planOptions = planOptionsOf(options, dialect);
      const mode: DiffMode = options.check ? 'check' : options.dryRun ? 'dry-run' : 'write';
      let engine: DiffEngine;
      if (dialect === 'postgres') {
        const { openPostgresDiff } = await import('../diff/postgres/engine.js');
        engine = await openPostgresDiff(sources, { server, env: options.postgres?.env ?? {} });
      } else engine = await openSqliteDiff(sources);
      let outcome: DiffOutcome;
      try {
        outcome = await runDiff(engine, { dir: config.migrationsDir, name: options.name ?? 'schema_diff', source: isPg(options.to) ? 'a postgres:// database' : path.basename(options.to), mode, options: planOptions });
      } finally {
        await engine.close();
      }
      // What `dbshift lint` will say about the files, said now (a rename the running app still uses, a rewrite asked for).
      let lintFindings: LintFinding[] = [];
      if (outcome.status === 'written') {
        // As the team configured lint (dbshift.lint.json, its levels): the rules only, the proof already replayed the files.
        const versions = new Set(outcome.migrations.map((m) => m.version));
        if (dialect === 'postgres') {
          const [{ lintPostgres }, { loadPgMigrationDir }] = await Promise.all([import('../engine/drivers/postgres/lint.js'), import('../engine/drivers/postgres/load.js')]);
          lintFindings = (await lintPostgres(await loadPgMigrationDir(config.migrationsDir, Number.MAX_SAFE_INTEGER), { only: versions })).findings;
        } else lintFindings = lintSqlite(await loadMigrationDir(config.migrationsDir), versions).findings;
      }
      const result: DiffResult = {
        ok: outcome.status !== 'refused' && outcome.status !== 'differs',
        command: 'diff',
        status: outcome.status,
        dialect,
        migrations: config.migrationsDir,
        inSync: outcome.status === 'in-sync',
        proven: outcome.proven,
        changes: outcome.operations.map((o) => ({ phase: o.phase, summary: o.summary })),
        findings: outcome.findings,
        generated: outcome.migrations.map((m) => ({ label: m.label, transactional: m.transactional, up: m.up, down: m.down })),
        files: outcome.files,
        dataLoss: outcome.dataLoss,
        lint: lintFindings,
        notices: [],
      };
      if (outcome.status === 'refused') {
        result.error = { code: 'diff-undecided', message: `${outcome.findings.length} change${outcome.findings.length === 1 ? '' : 's'} diff will not decide alone.`, hint: 'Decide each one with the option its finding names, then run diff again.', dataState: 'Nothing was written.', exitCode: ExitCode.data };
      } else if (outcome.status === 'differs') {
        result.error = { code: 'schema-differs', message: `The migrations are not in sync with the desired schema: ${outcome.operations.length} change${outcome.operations.length === 1 ? '' : 's'}.`, hint: 'Run `dbshift diff -m NAME` to write the migration.', dataState: 'Nothing was written.', exitCode: ExitCode.data };
      }
      return result;
    },
    (error) => ({ ...empty(options.dialect ?? (isPg(options.to) || isPg(options.from) ? 'postgres' : 'sqlite'), placesOf(options).migrations), status: 'failed' as const, notices: [], error }),
  );
}
