import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../sqlite/open.js';
import { DOC_TEMPLATE_SECTIONS } from './create.js';
import { migrationLabel } from './discover.js';
import { contextFor } from './drivers/sqlite/connection.js';
import { IDENT, identifier, splitStatements, withoutLiterals, type Statement } from './sql-text.js';
import type { MigrationDefinition, MigrationSet } from './types.js';

// SQLite pitfalls, found before production does. The migrations are replayed in order on an
// empty in-memory database, so rules that need the schema (is this column indexed? referenced?)
// ask SQLite itself instead of guessing from text.

export interface LintFinding {
  file: string;
  line: number;
  rule: string;
  message: string;
  fix: string;
}

const ADD_COLUMN = new RegExp(String.raw`^ALTER\s+TABLE\s+(${IDENT})\s+ADD\s+(?:COLUMN\s+)?(${IDENT})\s*(.*)$`, 'is');
const DROP_COLUMN = new RegExp(String.raw`^ALTER\s+TABLE\s+(${IDENT})\s+DROP\s+(?:COLUMN\s+)?(${IDENT})\s*$`, 'is');
const DROP_TABLE = new RegExp(String.raw`^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(${IDENT})`, 'is');
const CREATE_TABLE = new RegExp(String.raw`^CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(${IDENT})`, 'is');

interface ColumnRef {
  table: string;
  column: string;
}

/**
 * Every rule, one entry each: what it checks and the usual fix. A finding may give a more
 * specific fix; the README's rule table is this list.
 */
export const LINT_RULES = {
  'add-column-unique': { checks: 'ADD COLUMN with UNIQUE (SQLite refuses)', fix: 'Add the column without UNIQUE, then CREATE UNIQUE INDEX on it.' },
  'add-column-primary-key': { checks: 'ADD COLUMN with PRIMARY KEY (SQLite refuses)', fix: 'Rebuild the table in a code migration with ctx.rebuildTable().' },
  'add-column-non-constant-default': { checks: 'ADD COLUMN with DEFAULT (expr) or CURRENT_* (refused once the table has rows)', fix: 'Add the column without the default and UPDATE the rows, or rebuild the table with ctx.rebuildTable().' },
  'add-column-not-null-without-default': { checks: 'ADD COLUMN … NOT NULL without DEFAULT', fix: 'Give the column a constant DEFAULT, or rebuild the table with ctx.rebuildTable().' },
  'drop-column-constrained': { checks: 'DROP COLUMN of an indexed, UNIQUE, primary-key, foreign-key or referenced column', fix: 'Drop the index first, or rebuild the table with ctx.rebuildTable().' },
  'data-loss-undocumented': { checks: 'DROP TABLE / DROP COLUMN in an up file whose .md does not name the table or column (as a whole word, in its own words, not the template\'s) under "Data-loss risk"', fix: 'Name what is lost in the .md, section "Data-loss risk".' },
  'primary-key-not-rowid': { checks: 'an integer-looking PRIMARY KEY that is not INTEGER PRIMARY KEY (INT, BIGINT, SERIAL…): not a rowid alias in SQLite, so ids are not assigned and come out NULL', fix: 'Declare the column INTEGER PRIMARY KEY.' },
  'foreign-key-missing-parent': { checks: 'a foreign key to a table that does not exist (after this migration)', fix: 'Create the parent table first (in this or an earlier migration), or correct its name.' },
  'foreign-key-without-on-delete': { checks: 'a foreign key without an ON DELETE action', fix: 'Add ON DELETE CASCADE (children go with the parent) or ON DELETE SET NULL (children stay).' },
  'foreign-key-without-index': { checks: 'a foreign-key column that no index leads with', fix: 'CREATE INDEX on the foreign-key columns.' },
  'missing-down': { checks: 'no .down.sql (or no down export)', fix: 'Write the down migration that undoes the up.' },
  'sql-error': { checks: 'a statement SQLite rejects on the schema the earlier migrations build, in up and down files (a down file runs on the schema its up built)', fix: 'Correct the statement (names, order of migrations) and run `dbshift lint` again.' },
  'doc-missing': { checks: 'no NNNNNN_name.md beside the migration', fix: 'Write the document (`dbshift create` writes the skeleton): overview, data-loss risk, reversibility, testing, rollback plan.' },
  'doc-empty': { checks: 'an empty .md', fix: 'Write the document: overview, data-loss risk, reversibility, testing, rollback plan.' },
  'doc-template': { checks: 'a .md whose Overview or Data-loss risk still says only what the template says', fix: 'Replace the template text with what this migration does and loses.' },
  'unrecognized-file': { checks: 'a file that looks like a migration but never runs (an Alembic .py, 1_init.sql, V1__init.sql)', fix: 'Rename it to NNNNNN_name.up.sql (and .down.sql), or move it out of the migrations directory.' },
} as const;
export type LintRule = keyof typeof LINT_RULES;

function finding(rule: LintRule, file: string, line: number, message: string, fix: string = LINT_RULES[rule].fix): LintFinding {
  return { file, line, rule, message, fix };
}

/** Lint every migration of the set (or only those listed), in version order. */
export function lintMigrations(set: MigrationSet, only?: ReadonlySet<number>): LintFinding[] {
  const findings: LintFinding[] = unrecognizedFindings(set.ignored ?? []);
  const db = new Database(':memory:');
  try {
    db.pragma('foreign_keys = OFF');
    // Lint changes nothing and runs no user code: a code migration is not replayed, so after
    // one the in-memory schema is no longer the real one, and SQLite's rejections stop counting.
    let schemaKnown = true;
    for (const migration of [...set.migrations].sort((a, b) => a.version - b.version)) {
      const own = lintOne(db, set.source, migration).filter((f) => schemaKnown || f.rule !== 'sql-error');
      if (migration.kind === 'code') schemaKnown = false;
      if (!only || only.has(migration.version)) findings.push(...own);
    }
  } finally {
    db.close();
  }
  return findings;
}

/** Files that look like migrations but never run (the PostgreSQL lint reports them too). */
export function unrecognizedFindings(ignored: string[]): LintFinding[] {
  return ignored.map((file) =>
    file.endsWith('.py')
      ? finding('unrecognized-file', file, 1, `${file} is a Python file (an Alembic revision?): dbshift never runs it.`, 'Port it to `dbshift revision -m NAME` files, or move it out of the migrations directory.')
      : finding('unrecognized-file', file, 1, `${file} looks like a migration but does not match NNNNNN_name.up.sql / .down.sql / .ts / .js: it never runs.`),
  );
}

function lintOne(db: Db, dir: string, migration: MigrationDefinition): LintFinding[] {
  const findings: LintFinding[] = [];
  const upFile = migration.files[0] ?? migrationLabel(migration);
  if (!migration.down) {
    findings.push(
      finding(
        'missing-down',
        upFile,
        1,
        `${migrationLabel(migration)} cannot be reverted: it has no down migration.`,
        migration.kind === 'sql' ? `Add ${migrationLabel(migration)}.down.sql that undoes the up file.` : 'Export a down(ctx) function that undoes up().',
      ),
    );
  }
  if (migration.kind !== 'builtin') findings.push(...documentFindings(dir, migration, upFile));
  if (migration.kind !== 'sql' || !migration.up?.sql) {
    if (migration.kind === 'builtin') replayBuiltin(db, migration);
    return findings;
  }
  const doc = migration.doc ? readDataLossSection(path.join(dir, migration.doc)) : '';
  const touched = new Map<string, number>();
  findings.push(...replayFile(db, upFile, migration.up.sql, { doc, migration, touched }));
  for (const [table, line] of touched) findings.push(...foreignKeyFindings(db, upFile, line, table, migration.up.sql));
  if (migration.down?.sql !== undefined) {
    // The down file runs on the schema its up just built; it is rolled back so the next
    // migration is linted on the schema after this one's up.
    const downFile = migration.files.find((f) => f.endsWith('.down.sql')) ?? `${migrationLabel(migration)}.down.sql`;
    db.exec('SAVEPOINT lint_down');
    try {
      findings.push(...replayFile(db, downFile, migration.down.sql, { migration }));
    } finally {
      db.exec('ROLLBACK TO lint_down');
      db.exec('RELEASE lint_down');
    }
  }
  return findings;
}

/** Run a file's statements on the in-memory schema, one at a time, with the rules of each. */
function replayFile(db: Db, file: string, sql: string, context: { doc?: string; migration: MigrationDefinition; touched?: Map<string, number> }): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const statement of splitStatements(sql)) {
    const own = statementFindings(db, file, statement, context.doc, context.migration);
    findings.push(...own);
    const created = CREATE_TABLE.exec(statement.text);
    const added = ADD_COLUMN.exec(statement.text);
    if (created) context.touched?.set(identifier(created[1]!), statement.line);
    if (added && /\bREFERENCES\b/i.test(added[3] ?? '')) context.touched?.set(identifier(added[1]!), statement.line);
    try {
      db.exec(statement.text);
    } catch (error) {
      // A statement a rule already explained needs no second, vaguer finding.
      if (own.some((f) => f.rule !== 'data-loss-undocumented')) continue;
      findings.push(finding('sql-error', file, statement.line, `SQLite rejects this statement on the schema the earlier migrations build: ${(error as Error).message}.`));
      continue;
    }
    if (created) findings.push(...primaryKeyFindings(db, file, statement.line, identifier(created[1]!)));
  }
  return findings;
}

/** `doc` is the "Data-loss risk" section of the up file's document; undefined for down files (reverting what up added is their job). */
function statementFindings(db: Db, file: string, { text, line }: Statement, doc: string | undefined, migration: MigrationDefinition): LintFinding[] {
  const findings: LintFinding[] = [];
  const add = (rule: LintRule, message: string, fix?: string) => findings.push(finding(rule, file, line, message, fix));
  const added = ADD_COLUMN.exec(text);
  if (added) {
    const column = `${identifier(added[1]!)}.${identifier(added[2]!)}`;
    const definition = withoutLiterals(added[3] ?? '');
    if (/\bUNIQUE\b/i.test(definition)) add('add-column-unique', `ADD COLUMN ${column} with UNIQUE: SQLite cannot add a UNIQUE column.`);
    if (/\bPRIMARY\s+KEY\b/i.test(definition)) add('add-column-primary-key', `ADD COLUMN ${column} with PRIMARY KEY: SQLite cannot add a primary key column.`);
    if (/\bDEFAULT\s+(\(|CURRENT_(?:TIME|DATE|TIMESTAMP)\b)/i.test(definition)) {
      add('add-column-non-constant-default', `ADD COLUMN ${column} with a non-constant DEFAULT: SQLite refuses it on a table that has rows.`);
    }
    if (/\bNOT\s+NULL\b/i.test(definition) && !/\bDEFAULT\b/i.test(definition)) {
      add('add-column-not-null-without-default', `ADD COLUMN ${column} is NOT NULL without a DEFAULT: SQLite refuses it.`);
    }
  }
  const dropped = DROP_COLUMN.exec(text);
  if (dropped) {
    const ref = { table: identifier(dropped[1]!), column: identifier(dropped[2]!) };
    const why = dropBlockers(db, ref);
    if (why.length > 0) add('drop-column-constrained', `DROP COLUMN ${ref.table}.${ref.column}: the column is ${why.join(' and ')}; SQLite refuses to drop it.`);
    if (doc !== undefined && !mentions(doc, [ref.column])) {
      add('data-loss-undocumented', `DROP COLUMN ${ref.table}.${ref.column} deletes data, and ${docName(migration)} does not name it under "Data-loss risk".`, `State the risk for ${ref.table}.${ref.column} in ${docName(migration)} (section "Data-loss risk").`);
    }
  }
  const droppedTable = DROP_TABLE.exec(text);
  if (droppedTable && doc !== undefined) {
    const table = identifier(droppedTable[1]!);
    if (!mentions(doc, [table])) {
      add('data-loss-undocumented', `DROP TABLE ${table} deletes data, and ${docName(migration)} does not name it under "Data-loss risk".`, `State the risk for ${table} in ${docName(migration)} (section "Data-loss risk").`);
    }
  }
  return findings;
}

/**
 * Only `INTEGER PRIMARY KEY` (exactly that type, not DESC) makes a column the rowid alias
 * (https://sqlite.org/lang_createtable.html#rowid). `id INT PRIMARY KEY` or `id SERIAL PRIMARY
 * KEY`, habits from other databases, get no automatic values and accept NULL.
 */
function primaryKeyFindings(db: Db, file: string, line: number, table: string): LintFinding[] {
  const info = db.prepare(`SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND lower(name) = lower(?)`).get(table) as { name: string; wr: number } | undefined;
  if (!info || info.wr === 1) return [];
  const pk = db.prepare(`SELECT name, type FROM pragma_table_info(?) WHERE pk > 0`).all(info.name) as Array<{ name: string; type: string }>;
  if (pk.length !== 1) return [];
  const { name, type } = pk[0]!;
  const declared = type.trim().toUpperCase();
  if (declared === 'INTEGER' || !/INT|SERIAL/.test(declared)) return [];
  return [finding('primary-key-not-rowid', file, line, `${info.name}.${name} is ${type} PRIMARY KEY: only INTEGER PRIMARY KEY is a rowid alias in SQLite, so ids are not assigned and come out NULL.`, `Declare it \`${name} INTEGER PRIMARY KEY\`.`)];
}

/** A missing, empty or untouched-template document: the risk and rollback plan nobody wrote. */
export function documentFindings(dir: string, migration: Pick<MigrationDefinition, 'doc' | 'version' | 'name'>, upFile: string): LintFinding[] {
  const label = migrationLabel(migration);
  if (!migration.doc) return [finding('doc-missing', upFile, 1, `${label} has no document (${path.basename(upFile).replace(/(\.up\.sql|\.ts|\.js)$/, '')}.md).`)];
  let text = '';
  try {
    text = fs.readFileSync(path.join(dir, migration.doc), 'utf8');
  } catch {
    // An unreadable document reads as empty.
  }
  if (text.trim() === '') return [finding('doc-empty', migration.doc, 1, `${migration.doc} is empty.`)];
  const untouched = Object.entries(DOC_TEMPLATE_SECTIONS)
    .filter(([heading, template]) => sectionBody(text, heading)?.trim() === template)
    .map(([heading]) => heading);
  if (untouched.length === 0) return [];
  return [finding('doc-template', migration.doc, 1, `${migration.doc} still has the template's text under ${untouched.map((h) => `"${h}"`).join(' and ')}.`)];
}

function sectionBody(text: string, heading: string): string | undefined {
  const wanted = heading.toLowerCase().replace(/[\s-]+/g, ' ');
  for (const section of text.split(/^#+[ \t]*/m)) {
    const [title = '', ...body] = section.split('\n');
    if (title.trim().toLowerCase().replace(/[\s-]+/g, ' ') === wanted) return body.join('\n');
  }
  return undefined;
}

/** Why SQLite would refuse to drop this column: indexed, unique, primary key, or part of a foreign key. */
function dropBlockers(db: Db, ref: ColumnRef): string[] {
  const reasons: string[] = [];
  const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND lower(name) = ?`).get(ref.table);
  if (!exists) return reasons;
  const indexes = db.prepare(`SELECT name, origin FROM pragma_index_list(?)`).all(ref.table) as Array<{ name: string; origin: string }>;
  for (const index of indexes) {
    const cols = (db.prepare(`SELECT lower(name) AS name FROM pragma_index_info(?)`).all(index.name) as Array<{ name: string | null }>).map((c) => c.name);
    if (!cols.includes(ref.column)) continue;
    reasons.push(index.origin === 'u' ? 'UNIQUE' : index.origin === 'pk' ? 'the PRIMARY KEY' : `indexed (${index.name})`);
  }
  const pk = db.prepare(`SELECT 1 FROM pragma_table_info(?) WHERE lower(name) = ? AND pk > 0`).get(ref.table, ref.column);
  if (pk && !reasons.includes('the PRIMARY KEY')) reasons.push('the PRIMARY KEY');
  const ownFk = (db.prepare(`SELECT lower("from") AS c FROM pragma_foreign_key_list(?)`).all(ref.table) as Array<{ c: string }>).some((r) => r.c === ref.column);
  if (ownFk) reasons.push('a foreign key');
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map((t) => t.name);
  for (const child of tables) {
    const refs = db.prepare(`SELECT lower("table") AS parent, lower("to") AS col FROM pragma_foreign_key_list(?)`).all(child) as Array<{ parent: string; col: string | null }>;
    if (refs.some((r) => r.parent === ref.table && r.col === ref.column)) reasons.push(`referenced by ${child}`);
  }
  return reasons;
}

/** Foreign keys of a table this migration created or extended: an ON DELETE action, and an index to find children. */
function foreignKeyFindings(db: Db, file: string, line: number, table: string, sql: string): LintFinding[] {
  const exists = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND lower(name) = ?`).get(table) as { name: string } | undefined;
  if (!exists) return [];
  const keys = db.prepare(`SELECT id, seq, "table" AS parent, "from" AS col, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq`).all(exists.name) as Array<{
    id: number;
    seq: number;
    parent: string;
    col: string;
    on_delete: string;
  }>;
  const byId = new Map<number, typeof keys>();
  for (const key of keys) byId.set(key.id, [...(byId.get(key.id) ?? []), key]);
  const findings: LintFinding[] = [];
  const explicitNoAction = /\bON\s+DELETE\s+NO\s+ACTION\b/i.test(sql);
  for (const parts of byId.values()) {
    const columns = parts.map((p) => p.col);
    const label = `${exists.name}(${columns.join(', ')}) → ${parts[0]!.parent}`;
    const parent = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND lower(name) = lower(?)`).get(parts[0]!.parent);
    if (!parent) {
      // Foreign keys are off while migrations run, so SQLite accepts this; every insert fails once the app turns them on.
      findings.push(finding('foreign-key-missing-parent', file, line, `Foreign key ${label}: there is no table ${parts[0]!.parent}.`));
      continue;
    }
    if (parts[0]!.on_delete === 'NO ACTION' && !explicitNoAction) {
      findings.push(finding('foreign-key-without-on-delete', file, line, `Foreign key ${label} has no ON DELETE action: deleting a parent fails or leaves orphans.`));
    }
    if (!hasLeadingIndex(db, exists.name, columns)) {
      const fix = `CREATE INDEX ix_${exists.name}_${columns.join('_')} ON ${exists.name} (${columns.join(', ')});`;
      findings.push(finding('foreign-key-without-index', file, line, `Foreign key ${label} has no index on ${columns.join(', ')}: every parent delete scans the whole child table.`, fix));
    }
  }
  return findings;
}

function hasLeadingIndex(db: Db, table: string, columns: string[]): boolean {
  const wanted = columns.map((c) => c.toLowerCase());
  const indexes = db.prepare(`SELECT name FROM pragma_index_list(?)`).all(table) as Array<{ name: string }>;
  const leads = (cols: string[]) => wanted.every((c, i) => cols[i] === c);
  if (indexes.some((index) => leads((db.prepare(`SELECT lower(name) AS name FROM pragma_index_info(?) ORDER BY seqno`).all(index.name) as Array<{ name: string }>).map((c) => c.name)))) {
    return true;
  }
  const pk = (db.prepare(`SELECT lower(name) AS name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`).all(table) as Array<{ name: string }>).map((c) => c.name);
  return leads(pk);
}

/** The text under the document's "Data-loss risk" heading (or seed 002's German "Datenverlust-Risiko"), lower-cased ('' without a document). */
export function readDataLossSection(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  // The template's own sentence names no table ("Name every table and column…"): it never counts.
  const section = sectionBody(text, 'Data-loss risk') ?? sectionBody(text, 'Datenverlust-Risiko') ?? '';
  return section.replace(DOC_TEMPLATE_SECTIONS['Data-loss risk']!, '').toLowerCase();
}

/** Whole identifiers only: a column `name` is not documented by "rename" or "names". */
export function mentions(section: string, names: string[]): boolean {
  return names.some((name) => new RegExp(`(^|[^a-z0-9_$])${name.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z0-9_$])`).test(section));
}

export function docName(migration: Pick<MigrationDefinition, 'doc' | 'version' | 'name'>): string {
  return migration.doc ?? `${migrationLabel(migration)}.md`;
}

/** Keep the in-memory schema in step with a built-in migration (dbshift's own code, never the user's). */
function replayBuiltin(db: Db, migration: MigrationDefinition): void {
  if (!migration.up) return;
  try {
    db.exec('BEGIN');
    const result = migration.up.run(contextFor(db));
    if (result && typeof (result as Promise<void>).then === 'function') (result as Promise<void>).catch(() => undefined);
    db.exec('COMMIT');
  } catch {
    if (db.inTransaction) db.exec('ROLLBACK');
  }
}
