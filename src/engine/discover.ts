import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { loadCodeMigration, type CodeOptions } from './load-code.js';
import { utf8Text } from '../files/text.js';
import { reachesOutsideDatabase } from './outside-database.js';
import { splitStatements, transactionControl } from './sql-text.js';
import type { MigrationBody, MigrationDefinition, MigrationSet } from './types.js';

// golang-migrate's layout: NNNNNN_name.up.sql + NNNNNN_name.down.sql, read exactly as it reads
// them (the number is the version, files that do not match are ignored). dbshift adds code
// migrations (NNNNNN_name.ts / .js) and the team's NNNNNN_name.md document.

export const MIGRATION_FILE = /^(\d+)_([A-Za-z0-9][A-Za-z0-9_-]*)\.(up\.sql|down\.sql|ts|js|md)$/;
export const NO_TRANSACTION_DIRECTIVE = /^\s*--\s*dbshift:no-transaction\b/i;
const DELETES_ROWS_DIRECTIVE = /^\s*--\s*dbshift:deletes-rows\s+(.+)$/gim;

interface FoundFiles {
  version: number;
  name: string;
  byKind: Map<string, string>;
}

/**
 * Files that look like migrations of another tool, or like ours misnamed (`1_init.sql`,
 * `V1__init.sql`, Alembic's `.py` revisions): golang-migrate skips them silently, which hides
 * a migration that will never run. They are listed instead (lint reports each one).
 */
const LOOKS_LIKE_MIGRATION = /\.(py|sql|ts|js|mjs|cjs)$/i;

function unrecognizedFiles(dir: string, names: string[]): string[] {
  const found = names.filter((n) => !MIGRATION_FILE.test(n) && LOOKS_LIKE_MIGRATION.test(n) && !n.endsWith('.d.ts'));
  // Alembic keeps its revisions in versions/ beside env.py.
  const versions = path.join(dir, 'versions');
  if (names.includes('versions') && fs.statSync(versions).isDirectory()) {
    found.push(...fs.readdirSync(versions).filter((n) => n.endsWith('.py')).map((n) => path.join('versions', n)));
  }
  return found.sort();
}

/** The migration files of a directory, grouped by version, checked for clashes. */
function findMigrationFiles(dir: string): FoundFiles[] {
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
  for (const file of names.sort()) {
    const match = MIGRATION_FILE.exec(file);
    if (!match) continue;
    const [, digits, name, kind] = match as unknown as [string, string, string, string];
    const version = Number(digits);
    if (!Number.isSafeInteger(version) || version === 0) {
      throw new InputError('bad-migration-name', `${file}: the version must be a whole number from 1 up.`);
    }
    const found = byVersion.get(version) ?? { version, name, byKind: new Map<string, string>() };
    if (found.name !== name) {
      throw new InputError('duplicate-version', `Version ${version} is used by two migrations: ${found.name} and ${name} (${dir}).`, {
        hint: 'Renumber one of them; `dbshift create` picks the next free number.',
      });
    }
    found.byKind.set(kind, file);
    byVersion.set(version, found);
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
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

function checksumOf(dir: string, files: string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file).update('\0').update(readMigrationFile(dir, file, true)).update('\0');
  }
  return hash.digest('hex');
}

function sqlBody(sql: string, file: string): MigrationBody {
  const firstLine = sql.split('\n', 1)[0] ?? '';
  const deletesRows = [...sql.matchAll(DELETES_ROWS_DIRECTIVE)].flatMap((m) => m[1]!.split(/[\s,]+/).filter(Boolean));
  const body: MigrationBody = { sql, transactional: !NO_TRANSACTION_DIRECTIVE.test(firstLine), run: (ctx) => ctx.exec(sql), ...(deletesRows.length > 0 ? { deletesRows } : {}) };
  const outside = splitStatements(sql).find((s) => reachesOutsideDatabase(s.text));
  if (outside) return { ...body, invalid: `${file}:${outside.line}: ${reachesOutsideDatabase(outside.text)}` };
  if (!body.transactional) return body;
  const control = transactionControl(sql);
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

/** Read a migrations directory: SQL migrations as text, code migrations imported (TypeScript transpiled in memory). */
export async function loadMigrationDir(dir: string, options: CodeOptions = {}): Promise<MigrationSet> {
  const migrations: MigrationDefinition[] = [];
  const foundFiles = findMigrationFiles(dir);
  const ignored = unrecognizedFiles(dir, fs.readdirSync(dir));
  const python = ignored.filter((f) => f.endsWith('.py'));
  if (python.length > 0 && foundFiles.length === 0) {
    throw new InputError('alembic-project', `${dir} holds Python files (${python.slice(0, 3).join(', ')}${python.length > 3 ? ', …' : ''}) and no dbshift migrations: it looks like an Alembic project. dbshift reads golang-migrate's NNNNNN_name.up.sql / .down.sql (and .ts/.js code migrations), not Python revisions.`, {
      hint: 'Port each revision to `dbshift revision -m NAME` files, then `dbshift stamp V` the version the database is already at.',
      dataState: 'Nothing was changed.',
    });
  }
  for (const found of foundFiles) {
    const label = `${String(found.version).padStart(6, '0')}_${found.name}`;
    const { byKind } = found;
    const code = byKind.get('ts') ?? byKind.get('js');
    const hasSql = byKind.has('up.sql') || byKind.has('down.sql');
    if (byKind.has('ts') && byKind.has('js')) throw new InputError('duplicate-version', `${label} has both a .ts and a .js file; keep one.`);
    if (code && hasSql) throw new InputError('duplicate-version', `${label} has both SQL files and a code file; keep one kind.`);
    const doc = byKind.get('md');
    if (!code && !hasSql) {
      // A lone document: validate reports it, nothing runs.
      continue;
    }
    if (hasSql && !byKind.has('up.sql')) {
      throw new InputError('missing-up', `${label}.down.sql has no ${label}.up.sql beside it.`);
    }
    const files = code ? [code] : (['up.sql', 'down.sql'].map((k) => byKind.get(k)).filter(Boolean) as string[]);
    const definition: MigrationDefinition = {
      version: found.version,
      name: found.name,
      kind: code ? 'code' : 'sql',
      files,
      checksum: checksumOf(dir, files),
      ...(doc ? { doc } : {}),
    };
    if (code) {
      Object.assign(definition, await loadCodeMigration(path.join(dir, code), definition.checksum, options));
    } else {
      const up = byKind.get('up.sql')!;
      definition.up = sqlBody(readMigrationFile(dir, up), up);
      const down = byKind.get('down.sql');
      if (down) definition.down = sqlBody(readMigrationFile(dir, down), down);
    }
    migrations.push(definition);
  }
  return { source: dir, migrations, ...(ignored.length > 0 ? { ignored } : {}) };
}

/** Documents without a migration, for `validate`. */
export function orphanDocuments(dir: string, set: { migrations: ReadonlyArray<{ doc?: string }> }): string[] {
  const known = new Set(set.migrations.map((m) => m.doc).filter(Boolean));
  return findMigrationFiles(dir)
    .map((f) => f.byKind.get('md'))
    .filter((doc): doc is string => doc !== undefined && !known.has(doc));
}

export function migrationLabel(m: { version: number; name: string }): string {
  return `${String(m.version).padStart(6, '0')}_${m.name}`;
}
