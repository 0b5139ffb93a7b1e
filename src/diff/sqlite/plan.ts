import type { Column, SchemaObject, Table } from '../model.js';
import { quoteName } from '../normalize.js';
import type { DialectPlanner, PlanOptions, Finding, Operation, TableChange } from '../plan.js';

// How SQLite changes a table: ADD COLUMN where sqlite.org/lang_altertable.html allows it
// (no PRIMARY KEY or UNIQUE, a constant default, NOT NULL only with a default), RENAME for
// renames, and otherwise the 12-step rebuild (sqlite.org/lang_altertable.html#otheralter) the
// engine's rebuildTable() performs for code migrations, written out as SQL so it can be read,
// linted and replayed: the new table under a temporary name, every row copied with its rowid,
// the old table dropped, the new one renamed. The planner drops and recreates the table's
// indexes and triggers, and the views and triggers that name it, around the rebuild.

const CREATE_TABLE_NAME = /^(\s*CREATE\s+TABLE\s+)(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*)/i;

const NON_CONSTANT_DEFAULT = /^(\(|current_time|current_date|current_timestamp)/;

/** Can ALTER TABLE ADD COLUMN add this column to a table that has rows? */
function addable(column: Column, options: PlanOptions, table: string): boolean {
  if (/\b(PRIMARY\s+KEY|UNIQUE)\b/i.test(column.definition)) return false;
  if (column.generated?.endsWith('stored')) return false;
  if (column.default !== null && NON_CONSTANT_DEFAULT.test(column.default)) return false;
  if (column.notNull && (column.default === null || column.default === 'null') && !column.generated) return false;
  // A backfill value is written by the rebuild's copy.
  return options.backfill?.[`${table}.${column.name}`] === undefined;
}

const keysOf = (list: Array<{ key: string }>) => list.map((x) => x.key).sort();
const fkKey = (f: Table['foreignKeys'][number]) => JSON.stringify([f.columns, f.refTable, f.refColumns, f.onDelete, f.onUpdate]);

/** Only columns were added, each one ADD COLUMN can add, and nothing else changed but what their own definitions bring. */
function onlyAddable(change: TableChange, options: PlanOptions): boolean {
  const { current, desired, added } = change;
  if (added.length === 0 || change.dropped.length > 0 || change.changed.length > 0) return false;
  if (!added.every((c) => addable(c, options, desired.name))) return false;
  if (current.primaryKey.join(',') !== desired.primaryKey.join(',') || keysOf(current.uniques).join('|') !== keysOf(desired.uniques).join('|')) return false;
  if ((current.options ?? '') !== (desired.options ?? '')) return false;
  const newNames = new Set(added.map((c) => c.name));
  const newChecks = keysOf(desired.checks).filter((k) => !keysOf(current.checks).includes(k));
  if (keysOf(current.checks).some((k) => !keysOf(desired.checks).includes(k))) return false;
  // A new CHECK must come from an added column's own definition.
  if (newChecks.length > added.filter((c) => /\bCHECK\b/i.test(c.definition)).length) return false;
  const curFks = current.foreignKeys.map(fkKey);
  if (curFks.some((k) => !desired.foreignKeys.map(fkKey).includes(k))) return false;
  return desired.foreignKeys.filter((f) => !curFks.includes(fkKey(f))).every((f) => f.columns.length === 1 && newNames.has(f.columns[0]!) && /\bREFERENCES\b/i.test(added.find((c) => c.name === f.columns[0])!.definition));
}

function hasRowidAlias(table: Table): boolean {
  if (table.primaryKey.length !== 1) return false;
  return table.columns.find((c) => c.name === table.primaryKey[0])?.type === 'INTEGER';
}

/** A value for a NOT NULL column the old rows have no value for, in the column's own affinity (sqlite.org/datatype3.html#affname). */
function zeroOf(column: Column): string {
  return /INT|REAL|FLOA|DOUB|NUM|DEC|BOOL/.test(column.type) && !/CHAR|CLOB|TEXT/.test(column.type) ? '0' : "''";
}

/**
 * The rebuild, as statements: `from` becomes `to`. `sources` maps a column of the new table to
 * the SQL that computes it from the old row; columns without one take their DEFAULT.
 */
function rebuild(from: Table, to: Table, sources: Map<string, string>): string[] {
  const temp = `_dbshift_new_${to.name}`;
  const create = to.createSql.trim().replace(/;\s*$/, '').replace(CREATE_TABLE_NAME, `$1${quoteName(temp)}`);
  const copied = to.columns.filter((c) => !c.generated && sources.has(c.name));
  const targets = copied.map((c) => quoteName(c.name));
  const values = copied.map((c) => sources.get(c.name)!);
  // Keep the rowids where no INTEGER PRIMARY KEY carries them: whatever points at a rowid keeps pointing at the same row.
  const withoutRowid = /without rowid/.test(from.options ?? '') || /without rowid/.test(to.options ?? '');
  if (!withoutRowid && !hasRowidAlias(to)) {
    targets.unshift('rowid');
    values.unshift('rowid');
  }
  const statements = [`${create};`, `INSERT INTO ${quoteName(temp)} (${targets.join(', ')}) SELECT ${values.join(', ')} FROM ${quoteName(from.name)};`];
  if (/autoincrement/.test(from.options ?? '') && /autoincrement/.test(to.options ?? '')) {
    // AUTOINCREMENT never reuses an id, even a deleted row's: keep the high-water mark.
    const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;
    statements.push(`UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = ${literal(from.name)})) WHERE name = ${literal(temp)};`);
  }
  statements.push(`DROP TABLE ${quoteName(from.name)};`, `ALTER TABLE ${quoteName(temp)} RENAME TO ${quoteName(to.name)};`);
  return statements;
}

export const sqlitePlanner: DialectPlanner = {
  createTable: (table) => [{ phase: 'schema', summary: `create table ${table.name}`, up: [`${table.createSql.trim().replace(/;\s*$/, '')};`], down: [`DROP TABLE ${quoteName(table.name)};`] }],
  dropTable: (table) => ({ phase: 'schema', summary: `drop table ${table.name} (its rows are deleted)`, up: [`DROP TABLE ${quoteName(table.name)};`], down: [`${table.createSql.trim().replace(/;\s*$/, '')};`], loses: [table.name] }),
  renameTable: (from, to) => ({ phase: 'schema', summary: `rename table ${from} to ${to} (rows kept)`, up: [`ALTER TABLE ${quoteName(from)} RENAME TO ${quoteName(to)};`], down: [`ALTER TABLE ${quoteName(to)} RENAME TO ${quoteName(from)};`] }),
  renameColumn: (table, from, to) => ({
    phase: 'schema',
    summary: `rename column ${table}.${from} to ${to} (values kept)`,
    up: [`ALTER TABLE ${quoteName(table)} RENAME COLUMN ${quoteName(from)} TO ${quoteName(to)};`],
    down: [`ALTER TABLE ${quoteName(table)} RENAME COLUMN ${quoteName(to)} TO ${quoteName(from)};`],
  }),
  alterTable(change: TableChange, options: PlanOptions) {
    const { current, desired } = change;
    const findings: Finding[] = [];
    const name = quoteName(desired.name);
    if (onlyAddable(change, options)) {
      const operations: Operation[] = change.added.map((column) => ({
        phase: 'schema',
        summary: `add column ${desired.name}.${column.name}`,
        up: [`ALTER TABLE ${name} ADD COLUMN ${column.definition};`],
        // SQLite drops a plain column; one with REFERENCES or CHECK only by a rebuild.
        down: /\b(REFERENCES|CHECK)\b/i.test(column.definition) ? rebuild(desired, current, new Map(current.columns.map((c) => [c.name, quoteName(c.name)]))) : [`ALTER TABLE ${name} DROP COLUMN ${quoteName(column.name)};`],
      }));
      return { operations, findings };
    }
    const up = new Map<string, string>();
    for (const column of desired.columns) {
      if (column.generated) continue;
      const backfill = options.backfill?.[`${desired.name}.${column.name}`];
      const old = current.columns.find((c) => c.name === column.name);
      if (old && !old.generated) {
        // A column that becomes NOT NULL needs a value where the old rows have none.
        up.set(column.name, column.notNull && !old.notNull && backfill !== undefined ? `coalesce(${quoteName(column.name)}, ${backfill})` : quoteName(column.name));
      } else if (backfill !== undefined) up.set(column.name, backfill);
      else if (column.notNull && column.default === null) {
        findings.push({ code: 'needs-backfill', message: `New column ${desired.name}.${column.name} is NOT NULL without a DEFAULT: the existing rows need a value.`, hint: `Give it a DEFAULT in the desired schema, or a value for the existing rows: --backfill ${desired.name}.${column.name}=EXPRESSION (SQL over the row).` });
      }
    }
    const down = new Map<string, string>();
    for (const column of current.columns) {
      if (column.generated) continue;
      const now = desired.columns.find((c) => c.name === column.name);
      if (now && !now.generated) down.set(column.name, column.notNull && !now.notNull ? `coalesce(${quoteName(column.name)}, ${zeroOf(column)})` : quoteName(column.name));
      else if (column.notNull && column.default === null) down.set(column.name, zeroOf(column));
    }
    const what = [
      ...change.added.map((c) => `add ${c.name}`),
      ...change.dropped.map((c) => `drop ${c.name}`),
      ...change.changed.map((c) => `change ${c.desired.name}`),
    ];
    return {
      rebuilt: true,
      findings,
      operations: [
        {
          phase: 'schema',
          summary: `rebuild table ${desired.name}${what.length > 0 ? ` (${what.join(', ')})` : ' (constraints)'}, every row kept`,
          up: rebuild(current, desired, up),
          down: rebuild(desired, current, down),
          loses: change.dropped.map((c) => `${desired.name}.${c.name}`),
        },
      ],
    };
  },
  createObject: (object: SchemaObject) => [{ phase: 'schema', summary: `create ${object.kind} ${object.name}`, up: [object.create], down: [object.drop] }],
  dropObject: (object: SchemaObject) => [{ phase: 'schema', summary: `drop ${object.kind} ${object.name}`, up: [object.drop], down: [object.create] }],
};

