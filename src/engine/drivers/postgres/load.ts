import path from 'node:path';
import { InputError } from '../../../errors.js';
import type { Check } from '../../../results.js';
import { loadMigrationDir, NO_TRANSACTION_DIRECTIVE } from '../../discover.js';
import { readCodeMigration, type CodeMigration } from '../../load-code.js';
import type { MigrationBody, MigrationDefinition, MigrationSet } from '../../types.js';
import type { PgContext } from './context.js';
import { loadParser, noTransactionReasons, preparsePgFiles, pgTransactionControl, splitPgStatements, PgSyntaxError, type PgStatement } from './statements.js';

// The same migrations directory (discover.ts reads it), as PostgreSQL runs it: SQL files with
// their no-transaction statements detected by the parser, and code migrations whose
// up/down/verify may be async, with ctx.query inside the migration's transaction.

/**
 * A SQL file's body. How it runs (in one transaction or not, and why) takes a parse, done when
 * first asked: a run that applies one migration of 1,000, or `version`, parses no other file.
 */
function sqlBody(sql: string, file: string, serverVersionNum: number, deletesRows: string[] | undefined): MigrationBody<PgContext> {
  let decided: MigrationBody<PgContext> | undefined;
  const decide = () => (decided ??= decideSqlBody(sql, file, serverVersionNum, deletesRows));
  return {
    sql,
    run: (ctx: PgContext) => ctx.exec(sql),
    ...(deletesRows?.length ? { deletesRows } : {}),
    get transactional() {
      return decide().transactional;
    },
    get noTransactionReasons() {
      return decide().noTransactionReasons;
    },
    get note() {
      return decide().note;
    },
  };
}

function decideSqlBody(sql: string, file: string, serverVersionNum: number, deletesRows: string[] | undefined): MigrationBody<PgContext> {
  const base = { sql, run: (ctx: PgContext) => ctx.exec(sql), ...(deletesRows?.length ? { deletesRows } : {}) };
  let statements: PgStatement[];
  try {
    statements = splitPgStatements(sql);
  } catch (error) {
    if (!(error instanceof PgSyntaxError)) throw error;
    // The server rejects it with its own message when it runs (in a transaction: no trace).
    const marked = NO_TRANSACTION_DIRECTIVE.test(sql.split('\n', 1)[0] ?? '');
    return { ...base, transactional: !marked, ...(marked ? { noTransactionReasons: ['the -- dbshift:no-transaction marker'] } : {}) };
  }
  const reasons = noTransactionReasons(sql, statements, serverVersionNum);
  const control = pgTransactionControl(statements);
  if (control.first) {
    // A COMMIT in the middle would commit half of the file before a later statement fails: no
    // rollback could be promised, so golang-migrate's protocol says the truth instead (as on SQLite).
    const what = `${file}:${control.first.line} controls its own transaction (${control.first.text.split(/\s+/)[0]})`;
    return { ...base, transactional: false, noTransactionReasons: [...reasons, what], note: `${what}: it runs without dbshift's transaction, marked dirty until it succeeds.` };
  }
  const note = control.wrapped ? { note: `${file} wraps itself in BEGIN … COMMIT: dbshift runs what is between them in its own transaction, together with the bookkeeping.` } : {};
  if (reasons.length > 0) return { ...base, transactional: false, noTransactionReasons: reasons, ...note };
  return { ...base, transactional: true, ...note };
}

/** Async bodies over the same parse-not-import reading SQLite's code migrations get (load-code.ts). */
function codeBody(code: CodeMigration, direction: 'up' | 'down'): MigrationBody<PgContext> | undefined {
  if (!code.shape.exports.has(direction)) return undefined;
  // The module's functions take SQLite's context in their declared type; on PostgreSQL they get PgContext.
  const fn = (name: 'up' | 'down' | 'verify') => code.module()[name] as unknown as (ctx: PgContext, direction?: 'up' | 'down') => unknown;
  return {
    transactional: code.shape.transactional,
    ...(code.shape.transactional ? {} : { noTransactionReasons: ['export const transaction = false'] }),
    ...(code.shape.deletesRows.length > 0 ? { deletesRows: code.shape.deletesRows } : {}),
    load: code.load,
    run: async (ctx) => {
      await fn(direction)(ctx);
    },
    ...(code.shape.exports.has('verify')
      ? {
          verify: async (ctx: PgContext) => {
            const result = await fn('verify')(ctx, direction);
            return Array.isArray(result) ? (result as Check[]) : undefined;
          },
        }
      : {}),
  };
}

async function pgMigration(dir: string, m: MigrationDefinition, serverVersionNum: number): Promise<MigrationDefinition<PgContext>> {
  const { up: _up, down: _down, ...rest } = m;
  if (m.kind === 'sql') {
    return {
      ...rest,
      ...(m.up?.sql !== undefined ? { up: sqlBody(m.up.sql, m.files[0]!, serverVersionNum, m.up.deletesRows) } : {}),
      ...(m.down?.sql !== undefined ? { down: sqlBody(m.down.sql, m.files[1] ?? m.files[0]!, serverVersionNum, m.down.deletesRows) } : {}),
    };
  }
  if (m.kind === 'code') {
    const code = await readCodeMigration(path.join(dir, m.files[0]!), m.checksum, { allowAsync: true });
    const up = codeBody(code, 'up');
    const down = codeBody(code, 'down');
    return { ...rest, ...(up ? { up } : {}), ...(down ? { down } : {}) };
  }
  throw new InputError('not-for-postgres', `${m.name} is a built-in SQLite migration set; it cannot run on PostgreSQL.`);
}

/**
 * Parse these migrations' SQL files in one call to the parser (most of a parse's cost is the
 * crossing into WASM and back), before something reads them one by one: the steps a run is about
 * to take, or every file for lint. A file nothing asks about is never parsed (`version`, or one
 * migration onto 1,000).
 */
export async function preparseMigrations(migrations: ReadonlyArray<MigrationDefinition<PgContext>>, directions: ReadonlyArray<'up' | 'down'> = ['up', 'down']): Promise<void> {
  await loadParser();
  preparsePgFiles(migrations.flatMap((m) => (m.kind === 'sql' ? directions.map((d) => m[d]?.sql).filter((sql): sql is string => sql !== undefined) : [])));
}

/** A directory's migrations (as loadMigrationDir found them) for PostgreSQL. */
export async function pgMigrationSet(set: MigrationSet, serverVersionNum: number): Promise<MigrationSet<PgContext>> {
  await loadParser();
  const migrations: MigrationDefinition<PgContext>[] = [];
  for (const m of set.migrations) migrations.push(await pgMigration(set.source, m, serverVersionNum));
  return { source: set.source, migrations, ...(set.ignored?.length ? { ignored: set.ignored } : {}), ...(set.unrunnable?.length ? { unrunnable: set.unrunnable } : {}) };
}

/** Read a migrations directory for PostgreSQL (code migrations may be async). */
export async function loadPgMigrationDir(dir: string, serverVersionNum: number, options: { listUnrunnable?: boolean } = {}): Promise<MigrationSet<PgContext>> {
  return pgMigrationSet(await loadMigrationDir(dir, { allowAsync: true, ...options }), serverVersionNum);
}
