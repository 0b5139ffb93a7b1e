import { DataError, InternalError } from '../errors.js';
import { countRows, quoteIdent } from '../sqlite/introspect.js';
import type { Db } from '../sqlite/db.js';

// sqlite.org/lang_altertable.html#otheralter, "Making Other Kinds Of Table Schema Changes":
// the 12 steps. The engine does steps 1, 2, 10, 11 and 12 around every migration (foreign keys
// off before BEGIN, foreign_key_check before COMMIT); this file does 3 to 9 inside the
// transaction. With foreign keys on, DROP TABLE would delete every parent row first and
// ON DELETE CASCADE would empty the child tables: that is how rebuilds lose data elsewhere.

export interface RebuildChange {
  /** The table's new definition: a complete CREATE TABLE statement, under the table's own name. */
  createSql: string;
  /**
   * New column name → SQL expression over the old row. Columns not listed are copied from the
   * old column of the same name; new columns without an old one take their DEFAULT.
   */
  columns?: Record<string, string>;
  /**
   * Old columns whose values the migration means to drop. Any other old column that holds
   * values but has no column in the new table (and no `columns` expression naming it) refuses:
   * a rename written without its mapping would otherwise blank the column.
   */
  dropColumns?: string[];
}

const CREATE_TABLE_NAME = /^(\s*CREATE\s+TABLE\s+)(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*)/i;

function unquote(name: string): string {
  if (/^["`[]/.test(name)) return name.slice(1, -1).replace(/""/g, '"');
  return name;
}

interface ColumnInfo {
  name: string;
  type: string;
  pk: number;
  /** 2 and 3: a generated column (VIRTUAL, STORED); table_info leaves these out, table_xinfo does not. */
  hidden: number;
}

const isGenerated = (c: ColumnInfo) => c.hidden === 2 || c.hidden === 3;

function columns(db: Db, table: string): ColumnInfo[] {
  return db.prepare(`SELECT name, type, pk, hidden FROM pragma_table_xinfo(?)`).all(table) as ColumnInfo[];
}

function hasRowidAlias(db: Db, table: string): boolean {
  const pk = columns(db, table).filter((c) => c.pk > 0);
  return pk.length === 1 && pk[0]!.type.toUpperCase() === 'INTEGER';
}

function isWithoutRowid(db: Db, table: string): boolean {
  const row = db.prepare(`SELECT wr FROM pragma_table_list WHERE name = ? AND schema = 'main'`).get(table) as { wr: number } | undefined;
  return row?.wr === 1;
}

export function rebuildTable(db: Db, requested: string, change: RebuildChange): void {
  if (!db.inTransaction) throw new InternalError('rebuild-outside-transaction', 'rebuildTable runs inside a migration transaction.');
  if (db.pragma('foreign_keys', { simple: true }) !== 0) {
    throw new InternalError('rebuild-with-foreign-keys', 'rebuildTable needs foreign keys switched off before the transaction began.');
  }
  // SQLite matches names without regard to ASCII case (`ON authors` is a trigger of `Authors`):
  // so does every lookup here, and the table keeps the name it has.
  const existing = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE`).get(requested) as { name: string; sql: string } | undefined;
  if (!existing) throw new DataError('no-such-table', `rebuildTable: there is no table ${requested}.`);
  const table = existing.name;
  const match = CREATE_TABLE_NAME.exec(change.createSql);
  if (!match || unquote(match[2]!).toLowerCase() !== table.toLowerCase()) {
    throw new DataError('bad-rebuild', `rebuildTable(${table}): createSql must be a CREATE TABLE ${table} (…) statement.`);
  }

  // Step 3: remember what DROP TABLE takes along: the table's own indexes and triggers.
  // (Indexes without SQL are UNIQUE/PRIMARY KEY constraints: the new CREATE TABLE brings them.)
  const dependents = db
    .prepare(`SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? COLLATE NOCASE AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name`)
    .all(table) as Array<{ type: string; name: string; sql: string }>;
  const seqBefore = tableExists(db, 'sqlite_sequence')
    ? (db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = ? COLLATE NOCASE`).safeIntegers(true).get(table) as { seq: bigint } | undefined)?.seq
    : undefined;
  const workingViews = viewsThatCompile(db);
  const schemaProblemsBefore = schemaProblems(db, table);

  // Step 4: the new shape under a temporary name.
  const temp = `_dbshift_rebuild_${table}`;
  db.exec(change.createSql.replace(CREATE_TABLE_NAME, `$1${quoteIdent(temp)}`));

  // Step 5: copy every row. A generated column of the old table has values too (a column that
  // stops being generated keeps them); a generated column of the new table computes its own.
  const oldNames = new Set(columns(db, table).map((c) => c.name.toLowerCase()));
  const newInfo = columns(db, temp);
  const newColumns = newInfo.filter((c) => !isGenerated(c)).map((c) => c.name);
  for (const name of Object.keys(change.columns ?? {})) {
    if (newInfo.some((c) => c.name === name && isGenerated(c))) {
      throw new DataError('bad-rebuild', `rebuildTable(${table}): columns gives a value for ${name}, which the new table generates itself.`);
    }
    if (!newColumns.includes(name)) throw new DataError('bad-rebuild', `rebuildTable(${table}): columns names ${name}, which the new table does not have.`);
  }
  const copied = newColumns.filter((c) => change.columns?.[c] !== undefined || oldNames.has(c.toLowerCase()));
  assertNoValuesLeftBehind(db, table, change, new Set(newInfo.map((c) => c.name.toLowerCase())));
  const targets = copied.map(quoteIdent);
  const sources = copied.map((c) => change.columns?.[c] ?? quoteIdent(c));
  // Keep rowids too where no INTEGER PRIMARY KEY carries them, so nothing that points at a rowid moves.
  if (!isWithoutRowid(db, table) && !isWithoutRowid(db, temp) && !hasRowidAlias(db, temp)) {
    targets.unshift('rowid');
    sources.unshift('rowid');
  }
  db.prepare(`INSERT INTO ${quoteIdent(temp)} (${targets.join(', ')}) SELECT ${sources.join(', ')} FROM ${quoteIdent(table)}`).run();
  // Count the new table itself: `changes` counts inserts, and an ON CONFLICT REPLACE (or IGNORE)
  // in createSql makes duplicates replace each other while every insert still counts.
  const before = countRows(db, table);
  const copiedRows = countRows(db, temp);
  if (copiedRows !== before) {
    throw new DataError('rebuild-lost-rows', `rebuildTable(${table}) would keep ${copiedRows} of ${before} rows: the new definition merges or drops rows (a UNIQUE or PRIMARY KEY with ON CONFLICT REPLACE/IGNORE, or a constraint the old rows break).`, {
      hint: 'Resolve the duplicates in the migration before the rebuild, or change createSql.',
    });
  }

  // Steps 6 and 7. legacy_alter_table keeps RENAME from re-parsing views and triggers that name
  // the table, which would fail in the moment between DROP and RENAME when the table is missing.
  db.exec(`DROP TABLE ${quoteIdent(table)}`);
  const legacy = db.pragma('legacy_alter_table', { simple: true });
  db.pragma('legacy_alter_table = ON');
  try {
    db.exec(`ALTER TABLE ${quoteIdent(temp)} RENAME TO ${quoteIdent(table)}`);
  } finally {
    db.pragma(`legacy_alter_table = ${legacy ? 'ON' : 'OFF'}`);
  }
  if (seqBefore !== undefined) {
    // AUTOINCREMENT promises never to reuse an id, even of deleted rows: keep the high-water mark.
    db.prepare(`UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?`).run(seqBefore, table);
  }

  // Step 8: indexes and triggers back; step 9: every view must still compile.
  for (const object of dependents) {
    try {
      db.exec(object.sql);
    } catch (error) {
      throw new DataError('bad-rebuild', `rebuildTable(${table}): ${object.type} ${object.name} does not fit the new table: ${(error as Error).message}.`, {
        hint: `Drop or change ${object.name} in the migration before calling rebuildTable.`,
        cause: error,
      });
    }
  }
  const stillWorking = viewsThatCompile(db);
  const broken = [...workingViews].filter((name) => !stillWorking.has(name));
  if (broken.length > 0) {
    throw new DataError('bad-rebuild', `rebuildTable(${table}): view ${broken.join(', ')} no longer works with the new table.`, {
      hint: `DROP VIEW and CREATE it again for the new table in the same migration, before calling rebuildTable.`,
    });
  }
  // CREATE TRIGGER accepts a body naming a column that no longer exists; every later write to
  // the table would then fail. SQLite's own RENAME re-checks every trigger and view: ask it.
  const newlyBroken = [...schemaProblems(db, table)].filter(([name]) => !schemaProblemsBefore.has(name));
  if (newlyBroken.length > 0) {
    throw new DataError('bad-rebuild', `rebuildTable(${table}): ${newlyBroken.map(([, problem]) => problem).join('; ')}; the new table breaks it.`, {
      hint: 'DROP the trigger and CREATE it again for the new table in the same migration, before calling rebuildTable.',
    });
  }
}

/** Old columns with values that nothing carries into the new table, unless listed in dropColumns. */
function assertNoValuesLeftBehind(db: Db, table: string, change: RebuildChange, newNames: Set<string>): void {
  const dropping = new Set((change.dropColumns ?? []).map((c) => c.toLowerCase()));
  const expressions = Object.values(change.columns ?? {});
  const named = (column: string) => {
    const word = new RegExp(`(^|[^\\w$])["\`[]?${column.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["\`\\]]?([^\\w$]|$)`, 'i');
    return expressions.some((expression) => word.test(expression));
  };
  const left = columns(db, table).filter(
    (c) => !isGenerated(c) && !newNames.has(c.name.toLowerCase()) && !dropping.has(c.name.toLowerCase()) && !named(c.name) && db.prepare(`SELECT 1 FROM ${quoteIdent(table)} WHERE ${quoteIdent(c.name)} IS NOT NULL LIMIT 1`).get() !== undefined,
  );
  if (left.length === 0) return;
  const names = left.map((c) => c.name).join(', ');
  throw new DataError('rebuild-drops-values', `rebuildTable(${table}): column ${names} holds values and the new table has no column for them.`, {
    hint: `Renamed? Map it in columns (e.g. { new_name: '${left[0]!.name}' }). Dropped on purpose? List it in dropColumns: ['${left[0]!.name}'].`,
  });
}

/**
 * What SQLite finds wrong with the triggers and views of the schema, by object name: a RENAME
 * (not legacy) resolves every one of them and stops at the first it cannot; that one is dropped
 * and the check repeated, all inside a savepoint undone at once. An object already broken
 * before the rebuild cannot hide one the rebuild breaks.
 */
function schemaProblems(db: Db, table: string): Map<string, string> {
  const problems = new Map<string, string>();
  const legacy = db.pragma('legacy_alter_table', { simple: true });
  db.pragma('legacy_alter_table = OFF');
  db.exec('SAVEPOINT dbshift_schema_check');
  try {
    for (let round = 0; round < 100; round++) {
      try {
        db.exec(`ALTER TABLE ${quoteIdent(table)} RENAME TO ${quoteIdent(`_dbshift_check_${table}`)}`);
        break;
      } catch (error) {
        const message = (error as Error).message;
        const culprit = /error in (trigger|view) ("[^"]+"|\S+?):/.exec(message);
        if (!culprit || problems.has(culprit[2]!)) {
          problems.set(message, message);
          break;
        }
        problems.set(culprit[2]!, message);
        db.exec(`DROP ${culprit[1]!.toUpperCase()} ${quoteIdent(culprit[2]!.replace(/^"|"$/g, ''))}`);
      }
    }
    return problems;
  } finally {
    db.exec('ROLLBACK TO dbshift_schema_check');
    db.exec('RELEASE dbshift_schema_check');
    db.pragma(`legacy_alter_table = ${legacy ? 'ON' : 'OFF'}`);
  }
}

function viewsThatCompile(db: Db): Set<string> {
  const names = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'view'`).all() as Array<{ name: string }>).map((v) => v.name);
  return new Set(
    names.filter((name) => {
      try {
        db.prepare(`SELECT * FROM ${quoteIdent(name)} LIMIT 0`);
        return true;
      } catch {
        return false;
      }
    }),
  );
}

function tableExists(db: Db, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE name = ? COLLATE NOCASE`).get(name) !== undefined;
}
