import type { Db } from '../../sqlite/open.js';
import { HISTORY_TABLE, VERSION_TABLE } from '../../engine/state.js';
import type { Column, ForeignKey, NamedConstraint, Schema, SchemaObject, Table } from '../model.js';
import { normalizeSql, normalizeType, parenthesised, quoteName, splitTopLevel, sqlTokens } from '../normalize.js';

// A SQLite schema as diff compares it: what the pragmas know (columns, primary key, unique
// indexes, foreign keys), and what only the CREATE TABLE text holds (collations, generated
// expressions, CHECK constraints), read from sqlite_master.

const BOOKKEEPING = new Set([VERSION_TABLE, HISTORY_TABLE, 'sqlite_sequence', 'sqlite_stat1', 'sqlite_stat4'].map((n) => n.toLowerCase()));

interface ColumnRow {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
  hidden: number;
}

interface Parsed {
  columns: Map<string, { definition: string; collation: string | null; generated: string | null }>;
  checks: NamedConstraint[];
  options: string;
}

const TABLE_CONSTRAINT = /^(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN)\b/i;

/** What only the CREATE TABLE text says: each column's definition, collation and generated expression; the CHECK constraints. */
export function parseCreateTable(sql: string): Parsed {
  const body = parenthesised(sql);
  const columns: Parsed['columns'] = new Map();
  const checks: NamedConstraint[] = [];
  if (!body) return { columns, checks, options: '' };
  for (const element of splitTopLevel(body.inner)) {
    if (TABLE_CONSTRAINT.test(element)) {
      const named = /^CONSTRAINT\s+("(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|\S+)\s+/i.exec(element);
      const rest = named ? element.slice(named[0].length) : element;
      if (/^CHECK\b/i.test(rest)) checks.push(checkOf(rest, named ? sqlTokens(named[1]!)[0] : undefined));
      continue;
    }
    const tokens = sqlTokens(element);
    const name = tokens[0] ?? '';
    const collate = /\bCOLLATE\s+("?)(\w+)\1/i.exec(element);
    const generated = /\b(?:GENERATED\s+ALWAYS\s+)?AS\s*(\()/i.exec(element);
    let generatedKey: string | null = null;
    if (generated) {
      const expr = parenthesised(element, generated.index + generated[0].length - 1);
      if (expr) generatedKey = `${normalizeSql(expr.inner)} ${/^\s*STORED\b/i.test(expr.after) ? 'stored' : 'virtual'}`;
    }
    for (const check of element.matchAll(/\bCHECK\s*\(/gi)) {
      checks.push(checkOf(element.slice(check.index)));
    }
    columns.set(name, { definition: element, collation: collate ? collate[2]!.toLowerCase() : null, generated: generatedKey });
  }
  const options = normalizeSql(body.after);
  return { columns, checks, options };
}

function checkOf(text: string, name?: string): NamedConstraint {
  const expr = parenthesised(text);
  const key = `check (${normalizeSql(expr?.inner ?? text)})`;
  return { ...(name ? { name } : {}), key, definition: `CHECK (${expr?.inner.trim() ?? text})` };
}

function foreignKeys(db: Db, table: string): ForeignKey[] {
  const rows = db.prepare(`SELECT id, seq, "table" AS parent, "from" AS col, "to" AS ref, on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq`).all(table) as Array<{
    id: number;
    parent: string;
    col: string;
    ref: string | null;
    on_update: string;
    on_delete: string;
  }>;
  const byId = new Map<number, ForeignKey>();
  for (const row of rows) {
    const key = byId.get(row.id) ?? { columns: [], refTable: row.parent.toLowerCase(), refColumns: [], onDelete: row.on_delete, onUpdate: row.on_update };
    key.columns.push(row.col.toLowerCase());
    key.refColumns.push((row.ref ?? '').toLowerCase());
    byId.set(row.id, key);
  }
  return [...byId.values()];
}

function uniqueConstraints(db: Db, table: string): NamedConstraint[] {
  const indexes = db.prepare(`SELECT name FROM pragma_index_list(?) WHERE origin = 'u'`).all(table) as Array<{ name: string }>;
  return indexes
    .map((index) => {
      const cols = (db.prepare(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`).all(index.name) as Array<{ name: string }>).map((c) => c.name.toLowerCase());
      return { key: `unique (${cols.join(', ')})`, definition: `UNIQUE (${cols.map(quoteName).join(', ')})` };
    })
    .sort((a, b) => a.key.localeCompare(b.key));
}

function tableOf(db: Db, name: string, sql: string): Table {
  const parsed = parseCreateTable(sql);
  const rows = db.prepare(`SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)`).all(name) as ColumnRow[];
  const columns: Column[] = rows.map((row) => {
    const text = parsed.columns.get(row.name.toLowerCase());
    return {
      name: row.name.toLowerCase(),
      type: normalizeType(row.type),
      notNull: row.notnull === 1,
      default: row.dflt_value === null ? null : normalizeSql(row.dflt_value),
      generated: text?.generated ?? null,
      collation: text?.collation && text.collation !== 'binary' ? text.collation : null,
      definition: text?.definition ?? `${quoteName(row.name)} ${row.type}`,
    };
  });
  const primaryKey = rows.filter((r) => r.pk > 0).sort((a, b) => a.pk - b.pk).map((r) => r.name.toLowerCase());
  // An INTEGER PRIMARY KEY of a rowid table is the rowid: never NULL, whether or not it says NOT
  // NULL (SQLAlchemy's create_all writes `id INTEGER NOT NULL, PRIMARY KEY (id)`, people write
  // `id INTEGER PRIMARY KEY`): the same column (sqlite.org/lang_createtable.html#rowid).
  if (primaryKey.length === 1 && !/\bWITHOUT\s+ROWID\b/i.test(parenthesised(sql)?.after ?? '')) {
    const alias = columns.find((c) => c.name === primaryKey[0] && c.type === 'INTEGER');
    if (alias) alias.notNull = true;
  }
  return {
    name: name.toLowerCase(),
    columns,
    primaryKey,
    uniques: uniqueConstraints(db, name),
    checks: parsed.checks.sort((a, b) => a.key.localeCompare(b.key)),
    foreignKeys: foreignKeys(db, name),
    createSql: sql,
    options: [parsed.options, /\bAUTOINCREMENT\b/i.test(sql) ? 'autoincrement' : ''].filter(Boolean).join(' '),
  };
}

/** The schema of a SQLite database (main), dbshift's bookkeeping left out. */
export function introspectSqlite(db: Db): Schema {
  const rows = db.prepare(`SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type, name`).all() as Array<{ type: string; name: string; tbl_name: string; sql: string }>;
  const tables: Schema['tables'] = {};
  const objects: SchemaObject[] = [];
  for (const row of rows) {
    const name = row.name.toLowerCase();
    if (BOOKKEEPING.has(row.tbl_name.toLowerCase())) continue;
    if (row.type === 'table') {
      tables[name] = tableOf(db, row.name, row.sql);
    } else if (row.type === 'index' || row.type === 'trigger' || row.type === 'view') {
      objects.push({
        kind: row.type,
        name,
        ...(row.type === 'view' ? {} : { table: row.tbl_name.toLowerCase() }),
        key: normalizeSql(row.sql).replace(/^create (temp |temporary )?/, 'create '),
        create: `${row.sql.trim()};`,
        drop: `DROP ${row.type.toUpperCase()} ${quoteName(name)};`,
        ...(row.type === 'index' ? { unique: /^\s*CREATE\s+UNIQUE\b/i.test(row.sql) } : {}),
      });
    }
  }
  return { dialect: 'sqlite', tables, objects };
}
