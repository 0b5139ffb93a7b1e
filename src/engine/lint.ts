import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../sqlite/open.js';
import { migrationLabel } from './discover.js';
import { contextFor } from './execute.js';
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

/** Lint every migration of the set (or only those listed), in version order. */
export function lintMigrations(set: MigrationSet, only?: ReadonlySet<number>): LintFinding[] {
  const findings: LintFinding[] = (set.ignored ?? []).map((file) => ({
    file,
    line: 1,
    rule: 'unrecognized-file',
    message: file.endsWith('.py')
      ? `${file} is a Python file (an Alembic revision?): dbshift never runs it.`
      : `${file} looks like a migration but does not match NNNNNN_name.up.sql / .down.sql / .ts / .js: it never runs.`,
    fix: file.endsWith('.py') ? 'Port it to `dbshift revision -m NAME` files, or move it out of the migrations directory.' : 'Rename it to NNNNNN_name.up.sql (and .down.sql), or move it out of the migrations directory.',
  }));
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

function lintOne(db: Db, dir: string, migration: MigrationDefinition): LintFinding[] {
  const findings: LintFinding[] = [];
  const upFile = migration.files[0] ?? migrationLabel(migration);
  if (!migration.down) {
    findings.push({
      file: upFile,
      line: 1,
      rule: 'missing-down',
      message: `${migrationLabel(migration)} cannot be reverted: it has no down migration.`,
      fix: migration.kind === 'sql' ? `Add ${migrationLabel(migration)}.down.sql that undoes the up file.` : 'Export a down(ctx) function that undoes up().',
    });
  }
  if (migration.kind !== 'sql' || !migration.up?.sql) {
    if (migration.kind === 'builtin') replayBuiltin(db, migration);
    return findings;
  }
  const doc = migration.doc ? readDataLossSection(path.join(dir, migration.doc)) : '';
  const touched = new Map<string, number>();
  for (const statement of splitStatements(migration.up.sql)) {
    const own = statementFindings(db, upFile, statement, doc, migration);
    findings.push(...own);
    const created = CREATE_TABLE.exec(statement.text);
    const added = ADD_COLUMN.exec(statement.text);
    if (created) touched.set(identifier(created[1]!), statement.line);
    if (added && /\bREFERENCES\b/i.test(added[3] ?? '')) touched.set(identifier(added[1]!), statement.line);
    try {
      db.exec(statement.text);
    } catch (error) {
      // A statement a rule already explained needs no second, vaguer finding.
      if (own.some((f) => f.rule !== 'data-loss-undocumented')) continue;
      findings.push({
        file: upFile,
        line: statement.line,
        rule: 'sql-error',
        message: `SQLite rejects this statement on the schema the earlier migrations build: ${(error as Error).message}.`,
        fix: 'Correct the statement (names, order of migrations) and run `dbshift lint` again.',
      });
    }
  }
  for (const [table, line] of touched) findings.push(...foreignKeyFindings(db, upFile, line, table, migration.up.sql));
  return findings;
}

function statementFindings(db: Db, file: string, { text, line }: Statement, doc: string, migration: MigrationDefinition): LintFinding[] {
  const findings: LintFinding[] = [];
  const add = (rule: string, message: string, fix: string) => findings.push({ file, line, rule, message, fix });
  const added = ADD_COLUMN.exec(text);
  if (added) {
    const column = `${identifier(added[1]!)}.${identifier(added[2]!)}`;
    const definition = withoutLiterals(added[3] ?? '');
    if (/\bUNIQUE\b/i.test(definition)) {
      add('add-column-unique', `ADD COLUMN ${column} with UNIQUE: SQLite cannot add a UNIQUE column.`, `Add the column without UNIQUE, then CREATE UNIQUE INDEX on it.`);
    }
    if (/\bPRIMARY\s+KEY\b/i.test(definition)) {
      add('add-column-primary-key', `ADD COLUMN ${column} with PRIMARY KEY: SQLite cannot add a primary key column.`, 'Rebuild the table in a code migration with ctx.rebuildTable().');
    }
    const defaultExpr = /\bDEFAULT\s+(\(|CURRENT_(?:TIME|DATE|TIMESTAMP)\b)/i.exec(definition);
    if (defaultExpr) {
      add('add-column-non-constant-default', `ADD COLUMN ${column} with a non-constant DEFAULT: SQLite refuses it on a table that has rows.`, 'Add the column without the default and UPDATE the rows, or rebuild the table with ctx.rebuildTable().');
    }
    if (/\bNOT\s+NULL\b/i.test(definition) && !/\bDEFAULT\b/i.test(definition)) {
      add('add-column-not-null-without-default', `ADD COLUMN ${column} is NOT NULL without a DEFAULT: SQLite refuses it.`, 'Give the column a constant DEFAULT, or rebuild the table with ctx.rebuildTable().');
    }
  }
  const dropped = DROP_COLUMN.exec(text);
  if (dropped) {
    const ref = { table: identifier(dropped[1]!), column: identifier(dropped[2]!) };
    const why = dropBlockers(db, ref);
    if (why.length > 0) {
      add('drop-column-constrained', `DROP COLUMN ${ref.table}.${ref.column}: the column is ${why.join(' and ')}; SQLite refuses to drop it.`, `Drop the index first, or rebuild the table with ctx.rebuildTable().`);
    }
    if (!mentions(doc, [ref.column, `${ref.table}.${ref.column}`])) {
      add('data-loss-undocumented', `DROP COLUMN ${ref.table}.${ref.column} deletes data, and ${docName(migration)} does not name it under "Data-loss risk".`, `State the risk for ${ref.table}.${ref.column} in ${docName(migration)} (section "Data-loss risk").`);
    }
  }
  const droppedTable = DROP_TABLE.exec(text);
  if (droppedTable) {
    const table = identifier(droppedTable[1]!);
    if (!mentions(doc, [table])) {
      add('data-loss-undocumented', `DROP TABLE ${table} deletes data, and ${docName(migration)} does not name it under "Data-loss risk".`, `State the risk for ${table} in ${docName(migration)} (section "Data-loss risk").`);
    }
  }
  return findings;
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
    if (parts[0]!.on_delete === 'NO ACTION' && !explicitNoAction) {
      findings.push({
        file,
        line,
        rule: 'foreign-key-without-on-delete',
        message: `Foreign key ${label} has no ON DELETE action: deleting a parent fails or leaves orphans.`,
        fix: 'Add ON DELETE CASCADE (children go with the parent) or ON DELETE SET NULL (children stay).',
      });
    }
    if (!hasLeadingIndex(db, exists.name, columns)) {
      findings.push({
        file,
        line,
        rule: 'foreign-key-without-index',
        message: `Foreign key ${label} has no index on ${columns.join(', ')}: every parent delete scans the whole child table.`,
        fix: `CREATE INDEX ix_${exists.name}_${columns.join('_')} ON ${exists.name} (${columns.join(', ')});`,
      });
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

/** The text under the document's "Data-loss risk" heading, lower-cased ('' without a document). */
function readDataLossSection(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  const sections = text.split(/^#+\s*/m);
  const section = sections.find((s) => /^data[\s-]*loss/i.test(s));
  return (section ?? '').split('\n').slice(1).join('\n').toLowerCase();
}

function mentions(section: string, names: string[]): boolean {
  return names.some((name) => section.includes(name.toLowerCase()));
}

function docName(migration: MigrationDefinition): string {
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
