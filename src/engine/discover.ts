import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DataError, InputError } from '../errors.js';
import { DBMATE_UP, splitDbmateFile } from './formats/dbmate.js';
import { loadCodeMigration, type CodeOptions } from './load-code.js';
import { utf8Text } from '../files/text.js';
import { reachesOutsideDatabase } from './outside-database.js';
import { splitStatements, transactionControl } from './sql-text.js';
import type { MigrationBody, MigrationContext, MigrationDefinition, MigrationSet, UnrunnableFile } from './types.js';

// Every file a migration tool would run is either run or refused before anything runs: a
// migration skipped silently is one that can never run afterwards (issue 19.6, 20.4).
//
// - golang-migrate (source/parse.go): ^([0-9]+)_(.*)\.(down|up)\.(.*)$, the number parsed as
//   a uint64; two files for one version and direction make it refuse the directory.
// - dbmate: one file ^(\d+).*\.sql$ with `-- migrate:up` and `-- migrate:down` blocks
//   (dbmate-format.ts); its version is the digits as written ("001" is not "1" to dbmate).
// - dbshift's own code migrations (NNNNNN_name.ts / .js) and the team's NNNNNN_name.md.
// - Flyway's V2__name.sql / U2__name.sql / R__name.sql and Alembic's .py revisions cannot run
//   here: they are refused, naming the file and what to do.

export const GOLANG_MIGRATE_FILE = /^([0-9]+)_(.*)\.(down|up)\.(.*)$/;
const CODE_OR_DOC_FILE = /^([0-9]+)_(.+)\.(ts|js|md)$/;
const DBMATE_FILE = /^([0-9]+).*\.sql$/;
const FLYWAY_FILE = /^([VUR])([0-9][0-9._]*)?__.+\.sql$/i;
/** A name that would run as a dbshift migration (golang-migrate's files, code, documents); the pipeline's project check uses it. */
export const MIGRATION_FILE = { test: (name: string) => GOLANG_MIGRATE_FILE.test(name) || (CODE_OR_DOC_FILE.test(name) && !name.endsWith('.d.ts')) };
/** `-- dbshift:no-transaction`, or dbmate's `-- migrate:up transaction:false`, on a body's first line. */
export const NO_TRANSACTION_DIRECTIVE = /^\s*--\s*(?:dbshift:no-transaction\b|migrate:(?:up|down)\b.*\btransaction:false\b)/i;
const DELETES_ROWS_DIRECTIVE = /^\s*--\s*dbshift:deletes-rows\s+(.+)$/gim;

/** The largest version dbshift keeps exactly: versions are JavaScript numbers (golang-migrate allows any uint64, PostgreSQL's bigint column 2^63-1). */
export const MAX_VERSION = Number.MAX_SAFE_INTEGER;

type FileKind = 'up.sql' | 'down.sql' | 'ts' | 'js' | 'md' | 'dbmate';

interface FoundFiles {
  version: number;
  /** The digits as written: dbmate records this text, not the number. */
  versionText: string;
  name: string;
  byKind: Map<FileKind, string>;
}


/** Files nobody would run (`seed.sql`, `helpers.ts`): golang-migrate and dbmate skip them too; lint mentions them. */
const SOURCE_LIKE = /\.(sql|ts|js|mjs|cjs)$/i;

interface Listing {
  found: FoundFiles[];
  unrunnable: UnrunnableFile[];
  ignored: string[];
}

function parseVersion(digits: string, file: string): number | UnrunnableFile {
  const big = BigInt(digits);
  if (big === 0n) return { file, problem: 'version 0 means "nothing applied" to golang-migrate\'s version table', fix: 'Renumber it from 1 up (`dbshift create NAME` picks the next free number).' };
  if (big > BigInt(MAX_VERSION)) {
    return {
      file,
      problem: `version ${digits} is above ${MAX_VERSION}, the largest version dbshift keeps exactly (golang-migrate reads any uint64, but on PostgreSQL its bigint column stops at 9223372036854775807 too)`,
      fix: 'Renumber it: a timestamp version (YYYYMMDDHHMMSS, 14 digits) or a sequence fits.',
    };
  }
  return Number(big);
}

/** Why a name that looks like a migration cannot run here, and what to do; undefined if it does not look like one. */
function foreignFile(file: string): UnrunnableFile | undefined {
  if (FLYWAY_FILE.test(file)) {
    const kind = file[0]!.toUpperCase();
    const what = kind === 'V' ? 'a Flyway versioned migration' : kind === 'U' ? 'a Flyway undo migration' : 'a Flyway repeatable migration';
    return { file, problem: `${what}, which dbshift does not run`, fix: 'Rename it NNNNNN_name.up.sql (undo: NNNNNN_name.down.sql) with the same number; on a database Flyway migrated, `dbshift adopt` records the version it is at. See docs/coming-from.md.' };
  }
  if (file.endsWith('.py')) return { file, problem: 'a Python file (an Alembic revision?), which dbshift never runs', fix: 'Translate the chain with `dbshift import alembic --dir DIR`, or move it out of the migrations directory.' };
  if (/^[0-9]+_/.test(file) && SOURCE_LIKE.test(file) && !file.endsWith('.d.ts')) {
    return { file, problem: 'a numbered file that matches no migration format (NNNNNN_name.up.sql / .down.sql, dbmate\'s NNNNNN_name.sql, NNNNNN_name.ts / .js)', fix: 'Rename it to one of those forms, or move it out of the migrations directory.' };
  }
  return undefined;
}

/** The migration files of a directory, grouped by version, checked for clashes. */
function listMigrationFiles(dir: string): Listing {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InputError('no-migrations-dir', `The migrations directory ${dir} does not exist.`, {
        hint: 'Pass --dir (or set MIGRATIONS_DIR), or run `dbshift create NAME` to start one.',
      });
    }
    throw error;
  }
  const byVersion = new Map<number, FoundFiles>();
  const unrunnable: UnrunnableFile[] = [];
  const ignored: string[] = [];
  const add = (file: string, digits: string, name: string, kind: FileKind) => {
    const version = parseVersion(digits, file);
    if (typeof version !== 'number') return void unrunnable.push(version);
    const found = byVersion.get(version) ?? { version, versionText: digits, name, byKind: new Map<FileKind, string>() };
    // A document may sit beside any migration; dbmate's one file is both directions.
    const clash = kind === 'md' ? found.byKind.get('md') : [...found.byKind].find(([k]) => k !== 'md' && (k === kind || k === 'dbmate' || kind === 'dbmate'))?.[1];
    if (clash) {
      // golang-migrate: "duplicate migration file" (1_init.up.sql beside 000001_init.up.sql).
      throw new DataError('duplicate-version', `Version ${version} has two migration files: ${clash} and ${file} (${dir}). golang-migrate refuses this directory too.`, {
        hint: 'Keep one of them: renumber or remove the other (`dbshift create NAME` picks the next free number).',
        dataState: 'Nothing was changed.',
      });
    }
    if (found.name !== name) {
      throw new DataError('duplicate-version', `Version ${version} is used by two migrations: ${found.name} and ${name} (${dir}).`, {
        hint: 'Renumber one of them; `dbshift create` picks the next free number.',
        dataState: 'Nothing was changed.',
      });
    }
    found.byKind.set(kind, file);
    byVersion.set(version, found);
  };
  for (const file of names.sort()) {
    const golang = GOLANG_MIGRATE_FILE.exec(file);
    if (golang) {
      const [, digits, name, direction, ext] = golang as unknown as [string, string, string, 'up' | 'down', string];
      if (ext !== 'sql') {
        unrunnable.push({ file, problem: `golang-migrate would read it as the ${direction} migration of version ${digits}, but dbshift runs .sql files only (not .${ext})`, fix: `Rename it ${digits}_${name}.${direction}.sql if it is SQL, or move it out of the migrations directory.` });
        continue;
      }
      add(file, digits, name, `${direction}.sql`);
      continue;
    }
    const code = CODE_OR_DOC_FILE.exec(file);
    if (code && !file.endsWith('.d.ts')) {
      const [, digits, name, kind] = code as unknown as [string, string, string, 'ts' | 'js' | 'md'];
      add(file, digits, name, kind);
      continue;
    }
    const dbmate = DBMATE_FILE.exec(file);
    if (dbmate && !FLYWAY_FILE.test(file)) {
      const digits = dbmate[1]!;
      const text = readMigrationFile(dir, file);
      if (!DBMATE_UP.test(text)) {
        unrunnable.push({ file, problem: 'a numbered .sql file that is neither golang-migrate\'s NNNNNN_name.up.sql nor a dbmate migration (it has no `-- migrate:up` line)', fix: `Rename it ${digits}_name.up.sql, or start its SQL with a \`-- migrate:up\` line (dbmate's one-file format).` });
        continue;
      }
      add(file, digits, file.slice(digits.length, -'.sql'.length).replace(/^_/, ''), 'dbmate');
      continue;
    }
    const foreign = foreignFile(file);
    if (foreign) unrunnable.push(foreign);
    else if (SOURCE_LIKE.test(file) && !file.endsWith('.d.ts')) ignored.push(file);
  }
  // Alembic keeps its revisions in versions/ beside env.py.
  const versions = path.join(dir, 'versions');
  if (names.includes('versions') && fs.statSync(versions).isDirectory()) {
    for (const file of fs.readdirSync(versions).filter((n) => n.endsWith('.py'))) unrunnable.push({ ...foreignFile(file)!, file: path.join('versions', file) });
  }
  return { found: [...byVersion.values()].sort((a, b) => a.version - b.version), unrunnable, ignored: ignored.sort() };
}

/** A migration file that cannot be read is bad input (66), not an output dbshift failed to create. */
function readMigrationFile(dir: string, file: string): string;
function readMigrationFile(dir: string, file: string, raw: true): Buffer;
function readMigrationFile(dir: string, file: string, raw?: true): string | Buffer {
  try {
    const bytes = fs.readFileSync(path.join(dir, file));
    return raw ? bytes : utf8Text(bytes, path.join(dir, file));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError('unreadable-migration', `Cannot read ${path.join(dir, file)}: ${(error as Error).message}`, {
      hint: 'Check the file\'s permissions (the user running dbshift must be able to read every migration).',
      dataState: 'Nothing was changed.',
      cause: error,
    });
  }
}

/** Each file read once: its bytes are hashed and the same bytes decoded (a second read would cost what the first did, per file, per run). */
function readForChecksum(dir: string, files: string[]): { checksum: string; bytes: Map<string, Buffer> } {
  const hash = createHash('sha256');
  const bytes = new Map<string, Buffer>();
  for (const file of files) {
    const content = readMigrationFile(dir, file, true);
    bytes.set(file, content);
    hash.update(file).update('\0').update(content).update('\0');
  }
  return { checksum: hash.digest('hex'), bytes };
}

/**
 * A SQL file's body. How it runs (in one transaction or not, whether it can run at all) takes a
 * pass of the lexer, done when first asked: a run that applies one migration of 1,000 reads the
 * other files for their checksums only (and PostgreSQL decides with its own parser).
 */
function sqlBody(sql: string, file: string): MigrationBody {
  const deletesRows = [...sql.matchAll(DELETES_ROWS_DIRECTIVE)].flatMap((m) => m[1]!.split(/[\s,]+/).filter(Boolean));
  let decided: Pick<MigrationBody, 'transactional' | 'run' | 'note' | 'invalid'> | undefined;
  const decide = () => (decided ??= decideSqlBody(sql, file));
  return {
    sql,
    ...(deletesRows.length > 0 ? { deletesRows } : {}),
    run: (ctx) => decide().run(ctx),
    get transactional() {
      return decide().transactional;
    },
    get note() {
      return decide().note;
    },
    get invalid() {
      return decide().invalid;
    },
  };
}

function decideSqlBody(sql: string, file: string): Pick<MigrationBody, 'transactional' | 'run' | 'note' | 'invalid'> {
  const firstLine = sql.split('\n', 1)[0] ?? '';
  const body = { transactional: !NO_TRANSACTION_DIRECTIVE.test(firstLine), run: (ctx: MigrationContext) => ctx.exec(sql) };
  const statements = splitStatements(sql);
  const outside = statements.find((s) => reachesOutsideDatabase(s.text));
  if (outside) return { ...body, invalid: `${file}:${outside.line}: ${reachesOutsideDatabase(outside.text)}` };
  if (!body.transactional) return body;
  const control = transactionControl(sql, statements);
  if (control.unwrapped !== undefined) {
    const inner = control.unwrapped;
    return { ...body, run: (ctx) => ctx.exec(inner), note: `${file} wraps itself in BEGIN … COMMIT: dbshift runs what is between them in its own transaction, together with the bookkeeping.` };
  }
  if (control.problem) {
    return { ...body, invalid: `${file} ${control.problem}: run as written it would fail after its earlier statements took effect.` };
  }
  if (control.first) {
    // A COMMIT in the middle would commit half of the file before a later statement fails:
    // no rollback could be promised, so golang-migrate's protocol says the truth instead.
    return { ...body, transactional: false, note: `${file}:${control.first.line} controls its own transaction (${control.first.text}): it runs without dbshift's transaction, marked dirty until it succeeds.` };
  }
  return body;
}

export interface DiscoverOptions extends CodeOptions {
  /** Lint: list the files that cannot run (as findings) instead of refusing the directory. */
  listUnrunnable?: boolean;
}

/** Refuse a directory in which some file that looks like a migration cannot run: before anything runs (65). */
function refuseUnrunnable(dir: string, unrunnable: UnrunnableFile[]): never {
  const lines = unrunnable.slice(0, 5).map((u) => `${u.file}: ${u.problem}.`);
  const more = unrunnable.length > 5 ? ` (and ${unrunnable.length - 5} more: \`dbshift lint\` lists them all)` : '';
  throw new DataError('unrunnable-migration', `${dir} holds ${unrunnable.length === 1 ? 'a file that looks like a migration but cannot run' : `${unrunnable.length} files that look like migrations but cannot run`}${more}:\n  ${lines.join('\n  ')}`, {
    hint: `${unrunnable[0]!.fix}${unrunnable.length > 1 ? ' `dbshift lint` names the fix for each file.' : ''} dbshift never skips such a file: it would never run afterwards.`,
    dataState: 'Nothing was changed.',
  });
}

/** Read a migrations directory: SQL migrations as text, code migrations imported (TypeScript transpiled in memory). */
export async function loadMigrationDir(dir: string, options: DiscoverOptions = {}): Promise<MigrationSet> {
  const migrations: MigrationDefinition[] = [];
  const { found: foundFiles, unrunnable, ignored } = listMigrationFiles(dir);
  const python = unrunnable.filter((u) => u.file.endsWith('.py')).map((u) => u.file);
  if (python.length > 0 && foundFiles.length === 0) {
    throw new InputError('alembic-project', `${dir} holds Python files (${python.slice(0, 3).join(', ')}${python.length > 3 ? ', …' : ''}) and no dbshift migrations: it looks like an Alembic project. dbshift reads golang-migrate's NNNNNN_name.up.sql / .down.sql, dbmate's NNNNNN_name.sql (and .ts/.js code migrations), not Python revisions.`, {
      hint: 'Translate the revision chain with `dbshift import alembic --dir NEW_DIR`, then `dbshift adopt --dir NEW_DIR` on the database Alembic migrated.',
      dataState: 'Nothing was changed.',
    });
  }
  for (const found of foundFiles) {
    const label = migrationLabel({ version: found.version, versionText: found.versionText, name: found.name });
    const { byKind } = found;
    const code = byKind.get('ts') ?? byKind.get('js');
    const dbmate = byKind.get('dbmate');
    const hasSql = byKind.has('up.sql') || byKind.has('down.sql');
    if (byKind.has('ts') && byKind.has('js')) throw new DataError('duplicate-version', `${label} has both a .ts and a .js file; keep one.`);
    if (code && hasSql) throw new DataError('duplicate-version', `${label} has both SQL files and a code file; keep one kind.`);
    const doc = byKind.get('md');
    if (!code && !hasSql && !dbmate) {
      // A lone document: validate reports it, nothing runs.
      continue;
    }
    if (hasSql && !byKind.has('up.sql')) {
      unrunnable.push({ file: byKind.get('down.sql')!, problem: `it has no ${label}.up.sql beside it`, fix: `Add ${label}.up.sql, or remove the down file.` });
      continue;
    }
    const files = dbmate ? [dbmate] : code ? [code] : (['up.sql', 'down.sql'].map((k) => byKind.get(k as FileKind)).filter(Boolean) as string[]);
    const { checksum, bytes } = readForChecksum(dir, files);
    const textOf = (file: string) => utf8Text(bytes.get(file)!, path.join(dir, file));
    const definition: MigrationDefinition = {
      version: found.version,
      versionText: found.versionText,
      name: found.name,
      kind: code ? 'code' : 'sql',
      ...(dbmate ? { format: 'dbmate' as const } : {}),
      files,
      checksum,
      ...(doc ? { doc } : {}),
    };
    if (code) {
      Object.assign(definition, await loadCodeMigration(path.join(dir, code), definition.checksum, options));
    } else if (dbmate) {
      const blocks = splitDbmateFile(textOf(dbmate));
      if ('problem' in blocks) {
        unrunnable.push({ file: dbmate, problem: `a dbmate migration dbmate itself would refuse: ${blocks.problem}`, fix: 'Fix the file the way dbmate documents: `-- migrate:up`, its SQL, then `-- migrate:down` and its SQL.' });
        continue;
      }
      definition.up = sqlBody(blocks.up, dbmate);
      if (blocks.down !== undefined) definition.down = sqlBody(blocks.down, dbmate);
    } else {
      const up = byKind.get('up.sql')!;
      definition.up = sqlBody(textOf(up), up);
      const down = byKind.get('down.sql');
      if (down) definition.down = sqlBody(textOf(down), down);
    }
    migrations.push(definition);
  }
  if (unrunnable.length > 0 && !options.listUnrunnable) refuseUnrunnable(dir, unrunnable);
  return { source: dir, migrations, ...(ignored.length > 0 ? { ignored } : {}), ...(unrunnable.length > 0 ? { unrunnable } : {}) };
}

/** Documents without a migration, for `validate`. */
export function orphanDocuments(dir: string, set: { migrations: ReadonlyArray<{ doc?: string }> }): string[] {
  const known = new Set(set.migrations.map((m) => m.doc).filter(Boolean));
  return listMigrationFiles(dir).found
    .map((f) => f.byKind.get('md'))
    .filter((doc): doc is string => doc !== undefined && !known.has(doc));
}

/** The migration as its files name it (`001_init`, `20240101120000_add_b`); six digits when the name is not known. */
export function migrationLabel(m: { version: number; name: string; versionText?: string }): string {
  return `${m.versionText ?? String(m.version).padStart(6, '0')}_${m.name}`;
}
