import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../sqlite/open.js';
import { DOC_TEMPLATE_SECTIONS } from './create.js';
import { migrationLabel } from './discover.js';
import { contextFor } from './drivers/sqlite/connection.js';
import { reachesOutsideDatabase } from './outside-database.js';
import { IDENT, identifier, splitStatements, withoutLiterals } from './sql-text.js';
import type { MigrationDefinition, MigrationSet } from './types.js';
import { PG_RULES } from './drivers/postgres/lint-rules.js';
import { findingOf, SHARED_RULES, unrecognizedFindings, type LintFinding, type LintRegistry, type LintRuleInfo } from './lint-registry.js';
import { judgeFindings, type JudgedFindings } from './lint-settings.js';

export type { LintFinding } from './lint-registry.js';
export { unrecognizedFindings } from './lint-registry.js';

// SQLite pitfalls, found before production does. The migrations are replayed in order on an
// empty in-memory database, so rules that need the schema (is this column indexed? referenced?)
// ask SQLite itself instead of guessing from text.

const ADD_COLUMN = new RegExp(String.raw`^ALTER\s+TABLE\s+(${IDENT})\s+ADD\s+(?:COLUMN\s+)?(${IDENT})\s*(.*)$`, 'is');
const DROP_COLUMN = new RegExp(String.raw`^ALTER\s+TABLE\s+(${IDENT})\s+DROP\s+(?:COLUMN\s+)?(${IDENT})\s*$`, 'is');
const DROP_TABLE = new RegExp(String.raw`^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(${IDENT})`, 'is');
const CREATE_TABLE = new RegExp(String.raw`^CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(${IDENT})`, 'is');

interface ColumnRef {
  table: string;
  column: string;
}

/** A finding's words; the rule adds its id, and its usual fix unless the finding has a more specific one. */
interface Said {
  message: string;
  fix?: string;
}

/** A statement of an up or down file, about to be replayed on the schema the earlier statements built. */
interface StatementSeen {
  db: Db;
  text: string;
  /** The up file's "Data-loss risk" section, lower-cased; undefined for down files (reverting what up added is their job). */
  doc: string | undefined;
  migration: MigrationDefinition;
}

/** A foreign key of a table the up file created or extended, after the file ran. */
interface ForeignKeySeen {
  db: Db;
  /** `child(columns) → parent`, for messages. */
  label: string;
  table: string;
  columns: string[];
  parent: string;
  /** The parent table exists (after this migration). */
  parentExists: boolean;
  /** The key has no ON DELETE action, and the file did not say NO ACTION on purpose. */
  noOnDelete: boolean;
}

interface LintRuleSpec extends LintRuleInfo {
  /** Each statement, before SQLite replays it. */
  statement?(seen: StatementSeen): Said[];
  /** A table a CREATE TABLE just made, after SQLite replayed it. */
  created?(db: Db, table: string): Said[];
  /** Each foreign key of a table the up file created or extended. */
  foreignKey?(seen: ForeignKeySeen): Said[];
  /** Each migration, whatever its kind. */
  migration?(migration: MigrationDefinition, dir: string): Array<Said & { file?: string }>;
}

const said = (when: unknown, message: string, fix?: string): Said[] => (when ? [fix === undefined ? { message } : { message, fix }] : []);

/** ALTER TABLE … ADD COLUMN: the column as `table.column` and its definition without literals. */
function addedColumn(text: string): { column: string; definition: string } | undefined {
  const added = ADD_COLUMN.exec(text);
  return added ? { column: `${identifier(added[1]!)}.${identifier(added[2]!)}`, definition: withoutLiterals(added[3] ?? '') } : undefined;
}

function droppedColumn(text: string): ColumnRef | undefined {
  const dropped = DROP_COLUMN.exec(text);
  return dropped ? { table: identifier(dropped[1]!), column: identifier(dropped[2]!) } : undefined;
}

/**
 * Every rule, one entry each: what it checks, the usual fix, and the hook that finds it at the
 * point of the replay where it can be known. `sql-error` and `unrecognized-file` are found by
 * the replay and by discovery themselves.
 */
const LINT_RULES = {
  'add-column-unique': {
    where: 'statement',
    checks: 'ADD COLUMN with UNIQUE (SQLite refuses)',
    fix: 'Add the column without UNIQUE, then CREATE UNIQUE INDEX on it.',
    statement: ({ text }) => {
      const added = addedColumn(text);
      return said(added && /\bUNIQUE\b/i.test(added.definition), `ADD COLUMN ${added?.column} with UNIQUE: SQLite cannot add a UNIQUE column.`);
    },
  },
  'add-column-primary-key': {
    where: 'statement',
    checks: 'ADD COLUMN with PRIMARY KEY (SQLite refuses)',
    fix: 'Rebuild the table in a code migration with ctx.rebuildTable().',
    statement: ({ text }) => {
      const added = addedColumn(text);
      return said(added && /\bPRIMARY\s+KEY\b/i.test(added.definition), `ADD COLUMN ${added?.column} with PRIMARY KEY: SQLite cannot add a primary key column.`);
    },
  },
  'add-column-non-constant-default': {
    where: 'statement',
    checks: 'ADD COLUMN with DEFAULT (expr) or CURRENT_* (refused once the table has rows)',
    fix: 'Add the column without the default and UPDATE the rows, or rebuild the table with ctx.rebuildTable().',
    statement: ({ text }) => {
      const added = addedColumn(text);
      return said(added && /\bDEFAULT\s+(\(|CURRENT_(?:TIME|DATE|TIMESTAMP)\b)/i.test(added.definition), `ADD COLUMN ${added?.column} with a non-constant DEFAULT: SQLite refuses it on a table that has rows.`);
    },
  },
  'add-column-not-null-without-default': {
    where: 'statement',
    checks: 'ADD COLUMN … NOT NULL without DEFAULT',
    fix: 'Give the column a constant DEFAULT, or rebuild the table with ctx.rebuildTable().',
    statement: ({ text }) => {
      const added = addedColumn(text);
      return said(added && /\bNOT\s+NULL\b/i.test(added.definition) && !/\bDEFAULT\b/i.test(added.definition), `ADD COLUMN ${added?.column} is NOT NULL without a DEFAULT: SQLite refuses it.`);
    },
  },
  'drop-column-constrained': {
    where: 'replay',
    checks: 'DROP COLUMN of an indexed, UNIQUE, primary-key, foreign-key or referenced column',
    fix: 'Drop the index first, or rebuild the table with ctx.rebuildTable().',
    statement: ({ db, text }) => {
      const ref = droppedColumn(text);
      const why = ref ? dropBlockers(db, ref) : [];
      return said(ref && why.length > 0, `DROP COLUMN ${ref?.table}.${ref?.column}: the column is ${why.join(' and ')}; SQLite refuses to drop it.`);
    },
  },
  'data-loss-undocumented': {
    where: 'file',
    checks: 'DROP TABLE / DROP COLUMN in an up file whose .md does not name the table or column (as a whole word, in its own words, not the template\'s) under "Data-loss risk"',
    fix: 'Name what is lost in the .md, section "Data-loss risk".',
    statement: ({ text, doc, migration }) => {
      if (doc === undefined) return [];
      const column = droppedColumn(text);
      const table = DROP_TABLE.exec(text);
      const lost = column ? { what: 'DROP COLUMN', name: `${column.table}.${column.column}`, word: column.column } : table ? { what: 'DROP TABLE', name: identifier(table[1]!), word: identifier(table[1]!) } : undefined;
      return said(
        lost && !mentions(doc, [lost.word]),
        `${lost?.what} ${lost?.name} deletes data, and ${docName(migration)} does not name it under "Data-loss risk".`,
        `State the risk for ${lost?.name} in ${docName(migration)} (section "Data-loss risk").`,
      );
    },
  },
  'primary-key-not-rowid': {
    where: 'replay',
    checks: 'an integer-looking PRIMARY KEY that is not INTEGER PRIMARY KEY (INT, BIGINT, SERIAL…): not a rowid alias in SQLite, so ids are not assigned and come out NULL',
    fix: 'Declare the column INTEGER PRIMARY KEY.',
    created: (db, table) => primaryKeyNotRowid(db, table),
  },
  'foreign-key-missing-parent': {
    where: 'replay',
    checks: 'a foreign key to a table that does not exist (after this migration)',
    fix: 'Create the parent table first (in this or an earlier migration), or correct its name.',
    // Foreign keys are off while migrations run, so SQLite accepts this; every insert fails once the app turns them on.
    foreignKey: ({ label, parent, parentExists }) => said(!parentExists, `Foreign key ${label}: there is no table ${parent}.`),
  },
  'foreign-key-without-on-delete': {
    where: 'replay',
    checks: 'a foreign key without an ON DELETE action',
    fix: 'Add ON DELETE CASCADE (children go with the parent) or ON DELETE SET NULL (children stay).',
    foreignKey: ({ label, parentExists, noOnDelete }) => said(parentExists && noOnDelete, `Foreign key ${label} has no ON DELETE action: deleting a parent fails or leaves orphans.`),
  },
  'foreign-key-without-index': {
    where: 'replay',
    checks: 'a foreign-key column that no index leads with',
    fix: 'CREATE INDEX on the foreign-key columns.',
    foreignKey: ({ db, label, table, columns, parentExists }) =>
      said(
        parentExists && !hasLeadingIndex(db, table, columns),
        `Foreign key ${label} has no index on ${columns.join(', ')}: every parent delete scans the whole child table.`,
        `CREATE INDEX ix_${table}_${columns.join('_')} ON ${table} (${columns.join(', ')});`,
      ),
  },
  'missing-down': {
    where: 'file',
    checks: 'no .down.sql (or no down export)',
    fix: 'Write the down migration that undoes the up.',
    migration: (migration) =>
      said(
        !migration.down,
        `${migrationLabel(migration)} cannot be reverted: it has no down migration.`,
        migration.kind === 'sql' ? `Add ${migrationLabel(migration)}.down.sql that undoes the up file.` : 'Export a down(ctx) function that undoes up().',
      ),
  },
  'outside-database': {
    where: 'statement',
    checks: 'ATTACH, DETACH, VACUUM INTO: a migration that reaches another database file (refused by up)',
    fix: 'Change only this database in its migrations; copy data between files with a separate tool, backed up on its own.',
    statement: ({ text }) => {
      const why = reachesOutsideDatabase(text);
      return said(why !== undefined, `${why}.`);
    },
  },
  'sql-error': {
    where: 'replay',
    checks: 'a statement SQLite rejects on the schema the earlier migrations build, in up and down files (a down file runs on the schema its up built)',
    fix: 'Correct the statement (names, order of migrations) and run `dbshift lint` again.',
  },
  'doc-missing': {
    where: 'file',
    checks: 'no NNNNNN_name.md beside the migration',
    fix: 'Write the document (`dbshift create` writes the skeleton): overview, data-loss risk, reversibility, testing, rollback plan.',
    migration: (migration, dir) => (migration.kind === 'builtin' ? [] : documentProblemsOnce(dir, migration).filter((p) => p.rule === 'doc-missing')),
  },
  'doc-empty': {
    where: 'file',
    checks: 'an empty .md',
    fix: 'Write the document: overview, data-loss risk, reversibility, testing, rollback plan.',
    migration: (migration, dir) => (migration.kind === 'builtin' ? [] : documentProblemsOnce(dir, migration).filter((p) => p.rule === 'doc-empty')),
  },
  'doc-template': {
    where: 'file',
    checks: 'a .md whose Overview or Data-loss risk still says only what the template says',
    fix: 'Replace the template text with what this migration does and loses.',
    migration: (migration, dir) => (migration.kind === 'builtin' ? [] : documentProblemsOnce(dir, migration).filter((p) => p.rule === 'doc-template')),
  },
} as const satisfies Record<string, LintRuleSpec>;
type LintRule = keyof typeof LINT_RULES;
const RULES = Object.entries(LINT_RULES) as Array<[LintRule, LintRuleSpec]>;

function finding(rule: LintRule, file: string, line: number, message: string, fix?: string): LintFinding {
  return findingOf(LINT_RULES, rule, file, line, message, fix);
}

/** SQLite's rules, and the ones both engines share: the docs' rule table. */
export const SQLITE_RULES: LintRegistry = { ...LINT_RULES, ...SHARED_RULES };
/** Every rule id of either engine: a project file or an ignore comment may name any of them. */
export const LINT_RULE_IDS: ReadonlySet<string> = new Set([...Object.keys(SQLITE_RULES), ...Object.keys(PG_RULES)]);

/**
 * Lint every migration of the set (or only those listed), in version order, as the project's
 * settings and ignore comments say. With `schema` (the live database's CREATE statements: what
 * the applied chain built, code migrations included), the replay starts from it and runs only
 * the listed migrations' up files: `up` judges what it is about to run, at the cost of the
 * schema, not of replaying every migration ever applied (nor their down files).
 */
export function lintMigrations(set: MigrationSet, only?: ReadonlySet<number>, schema?: readonly string[]): LintFinding[] {
  return lintSqlite(set, only, schema).findings;
}

/** lintMigrations, with what the ignore comments silenced and the project file read. */
export function lintSqlite(set: MigrationSet, only?: ReadonlySet<number>, schema?: readonly string[]): JudgedFindings {
  return judgeFindings(rawFindings(set, only, schema), set, SQLITE_RULES, LINT_RULE_IDS);
}

function rawFindings(set: MigrationSet, only?: ReadonlySet<number>, schema?: readonly string[]): LintFinding[] {
  problemsSeen = new WeakMap();
  const findings: LintFinding[] = unrecognizedFindings(set);
  const db = new Database(':memory:');
  try {
    db.pragma('foreign_keys = OFF');
    if (schema && only) {
      for (const sql of schema) {
        try {
          db.exec(sql);
        } catch {
          // An object this build of SQLite cannot make (a virtual table's module): statements on it are then judged without it.
        }
      }
      // `up` is about to run the up files: their down files are judged by `dbshift lint`, not replayed before every up.
      for (const migration of [...set.migrations].filter((m) => only.has(m.version)).sort((a, b) => a.version - b.version)) findings.push(...lintOne(db, set.source, migration, false));
      return findings;
    }
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

function lintOne(db: Db, dir: string, migration: MigrationDefinition, replayDown = true): LintFinding[] {
  const upFile = migration.files[0] ?? migrationLabel(migration);
  const findings: LintFinding[] = RULES.flatMap(([rule, spec]) => (spec.migration?.(migration, dir) ?? []).map((f) => finding(rule, f.file ?? upFile, 1, f.message, f.fix)));
  if (migration.kind !== 'sql' || !migration.up?.sql) {
    if (migration.kind === 'builtin') replayBuiltin(db, migration);
    return findings;
  }
  const doc = migration.doc ? readDataLossSection(path.join(dir, migration.doc)) : '';
  const touched = new Map<string, number>();
  findings.push(...replayFile(db, upFile, migration.up.sql, { doc, migration, touched }));
  for (const [table, line] of touched) findings.push(...foreignKeyFindings(db, upFile, line, table, migration.up.sql));
  if (replayDown && migration.down?.sql !== undefined) {
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

/** Run a file's statements on the in-memory schema, one at a time, with every rule's statement hook first. */
function replayFile(db: Db, file: string, sql: string, context: { doc?: string; migration: MigrationDefinition; touched?: Map<string, number> }): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const statement of splitStatements(sql)) {
    const seen: StatementSeen = { db, text: statement.text, doc: context.doc, migration: context.migration };
    const own = RULES.flatMap(([rule, spec]) => (spec.statement?.(seen) ?? []).map((f) => finding(rule, file, statement.line, f.message, f.fix)));
    findings.push(...own);
    const created = CREATE_TABLE.exec(statement.text);
    const added = ADD_COLUMN.exec(statement.text);
    if (created) context.touched?.set(identifier(created[1]!), statement.line);
    if (added && /\bREFERENCES\b/i.test(added[3] ?? '')) context.touched?.set(identifier(added[1]!), statement.line);
    // Never replayed: it would create or write the file it names.
    if (reachesOutsideDatabase(statement.text)) continue;
    try {
      db.exec(statement.text);
    } catch (error) {
      // A statement a rule already explained needs no second, vaguer finding.
      if (own.some((f) => f.rule !== 'data-loss-undocumented')) continue;
      findings.push(finding('sql-error', file, statement.line, `SQLite rejects this statement on the schema the earlier migrations build: ${(error as Error).message}.`));
      continue;
    }
    if (created) {
      const table = identifier(created[1]!);
      findings.push(...RULES.flatMap(([rule, spec]) => (spec.created?.(db, table) ?? []).map((f) => finding(rule, file, statement.line, f.message, f.fix))));
    }
  }
  return findings;
}

/**
 * Only `INTEGER PRIMARY KEY` (exactly that type, not DESC) makes a column the rowid alias
 * (https://sqlite.org/lang_createtable.html#rowid). `id INT PRIMARY KEY` or `id SERIAL PRIMARY
 * KEY`, habits from other databases, get no automatic values and accept NULL.
 */
function primaryKeyNotRowid(db: Db, table: string): Said[] {
  const info = db.prepare(`SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND lower(name) = lower(?)`).get(table) as { name: string; wr: number } | undefined;
  if (!info || info.wr === 1) return [];
  const pk = db.prepare(`SELECT name, type FROM pragma_table_info(?) WHERE pk > 0`).all(info.name) as Array<{ name: string; type: string }>;
  if (pk.length !== 1) return [];
  const { name, type } = pk[0]!;
  const declared = type.trim().toUpperCase();
  if (declared === 'INTEGER' || !/INT|SERIAL/.test(declared)) return [];
  return said(true, `${info.name}.${name} is ${type} PRIMARY KEY: only INTEGER PRIMARY KEY is a rowid alias in SQLite, so ids are not assigned and come out NULL.`, `Declare it \`${name} INTEGER PRIMARY KEY\`.`);
}

type DocumentRule = 'doc-missing' | 'doc-empty' | 'doc-template';

/** What is wrong with a migration's document, if anything: missing, empty, or the template untouched (the risk and rollback plan nobody wrote). */
/** The three document rules ask about the same document: it is read once per migration and lint run. */
let problemsSeen = new WeakMap<object, Array<Said & { rule: DocumentRule; file?: string }>>();
function documentProblemsOnce(dir: string, migration: MigrationDefinition): Array<Said & { rule: DocumentRule; file?: string }> {
  let problems = problemsSeen.get(migration);
  if (!problems) problemsSeen.set(migration, (problems = documentProblems(dir, migration)));
  return problems;
}

function documentProblems(dir: string, migration: Pick<MigrationDefinition, 'doc' | 'version' | 'name' | 'files'>): Array<Said & { rule: DocumentRule; file?: string }> {
  const label = migrationLabel(migration);
  const upFile = migration.files[0] ?? label;
  if (!migration.doc) return [{ rule: 'doc-missing', message: `${label} has no document (${path.basename(upFile).replace(/(\.up\.sql|\.ts|\.js)$/, '')}.md).` }];
  let text = '';
  try {
    text = fs.readFileSync(path.join(dir, migration.doc), 'utf8');
  } catch {
    // An unreadable document reads as empty.
  }
  if (text.trim() === '') return [{ rule: 'doc-empty', file: migration.doc, message: `${migration.doc} is empty.` }];
  const untouched = Object.entries(DOC_TEMPLATE_SECTIONS)
    .filter(([heading, template]) => sectionBody(text, heading)?.trim() === template)
    .map(([heading]) => heading);
  if (untouched.length === 0) return [];
  return [{ rule: 'doc-template', file: migration.doc, message: `${migration.doc} still has the template's text under ${untouched.map((h) => `"${h}"`).join(' and ')}.` }];
}

/** The document rules for another driver's lint (PostgreSQL's), with the same words. */
export function documentFindings(dir: string, migration: Pick<MigrationDefinition, 'doc' | 'version' | 'name' | 'files'>, upFile: string): LintFinding[] {
  return documentProblems(dir, migration).map((p) => finding(p.rule, p.file ?? upFile, 1, p.message, p.fix));
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

/** Foreign keys of a table this migration created or extended, through every rule's foreign-key hook. */
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
  const explicitNoAction = /\bON\s+DELETE\s+NO\s+ACTION\b/i.test(sql);
  return [...byId.values()].flatMap((parts) => {
    const columns = parts.map((p) => p.col);
    const parent = parts[0]!.parent;
    const seen: ForeignKeySeen = {
      db,
      label: `${exists.name}(${columns.join(', ')}) → ${parent}`,
      table: exists.name,
      columns,
      parent,
      parentExists: db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND lower(name) = lower(?)`).get(parent) !== undefined,
      noOnDelete: parts[0]!.on_delete === 'NO ACTION' && !explicitNoAction,
    };
    return RULES.flatMap(([rule, spec]) => (spec.foreignKey?.(seen) ?? []).map((f) => finding(rule, file, line, f.message, f.fix)));
  });
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
