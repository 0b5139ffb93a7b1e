import type { Column, Schema, SchemaObject, Table } from './model.js';
import { objectId } from './model.js';
import { renameIdentifier } from './normalize.js';

// The pure planner: two schemas in, the statements that turn one into the other (and back)
// out, with what it refuses to guess. Alembic's compare.py walks the same levels (tables, then
// columns, then indexes and constraints); unlike Alembic and migra it never turns a rename into
// drop + add on its own: a table or column that disappears while one of the same shape appears
// is a finding, decided by --rename, --rename-table or --allow-drop.

/**
 * Where a statement runs on PostgreSQL: `schema` in one transaction; `concurrently` outside any
 * (CREATE INDEX CONCURRENTLY); `constraints` adds NOT VALID constraints once their indexes
 * exist; `validate` validates them in a later transaction, so that no lock that blocks writes
 * is held while rows are scanned. SQLite uses `schema` only.
 */
export type Phase = 'schema' | 'concurrently' | 'constraints' | 'validate';
export const PHASES: Phase[] = ['schema', 'concurrently', 'constraints', 'validate'];

export interface Operation {
  phase: Phase;
  /** One line for the document's overview and the text output. */
  summary: string;
  up: string[];
  /** What undoes `up`; the down file runs the operations' downs in reverse order. */
  down: string[];
  /** Tables and columns (`table`, `table.column`) whose data `up` deletes. */
  loses?: string[];
}

export type FindingCode = 'possible-rename' | 'drop-needs-consent' | 'needs-backfill' | 'cannot-express' | 'rewrites-table' | 'bad-option';

/** Something the planner will not decide alone: nothing is written while one is open (exit 65). */
export interface Finding {
  code: FindingCode;
  message: string;
  hint: string;
}

export interface PlanOptions {
  /** Column renames, `table.old` → `new` (the table by its desired name). */
  renameColumns?: Record<string, string>;
  /** Table renames, `old` → `new`. */
  renameTables?: Record<string, string>;
  /** Drop what the desired schema no longer has, data and all. */
  allowDrop?: boolean;
  /** `table.column` → SQL expression that fills a new NOT NULL column (without a default) on existing rows. */
  backfill?: Record<string, string>;
  /** PostgreSQL: write a column type change as ALTER COLUMN TYPE, which rewrites the table under an ACCESS EXCLUSIVE lock. */
  allowRewrite?: boolean;
}

export interface DiffPlan {
  operations: Operation[];
  findings: Finding[];
}

export interface ColumnChange {
  current: Column;
  desired: Column;
}

export interface TableChange {
  current: Table;
  desired: Table;
  added: Column[];
  dropped: Column[];
  changed: ColumnChange[];
}

/** What differs between the engines: how each change is written. */
export interface DialectPlanner {
  createTable(table: Table, desired: Schema): Operation[];
  dropTable(table: Table): Operation;
  renameTable(from: string, to: string): Operation;
  renameColumn(table: string, from: string, to: string): Operation;
  /**
   * The changes of one table; `rebuilt` when the table is created anew (its indexes, triggers
   * and the views and triggers that name it go with it), `retyped` when a column changes type
   * (PostgreSQL refuses that while a view uses the column: the views that name it go).
   */
  alterTable(change: TableChange, options: PlanOptions, current: Schema, desired: Schema): { operations: Operation[]; findings: Finding[]; rebuilt?: boolean; retyped?: boolean };
  createObject(object: SchemaObject, current: Schema): Operation[];
  dropObject(object: SchemaObject, current: Schema): Operation[];
  /** An object that differs but can change in place (PostgreSQL's enum values); undefined: drop and create. */
  changeObject?(current: SchemaObject, desired: SchemaObject, schema: Schema): { operations: Operation[]; findings: Finding[] } | undefined;
}

/** Created before the tables, dropped after them: what columns and defaults depend on. */
const BEFORE_TABLES: SchemaObject['kind'][] = ['extension', 'schema', 'enum', 'sequence', 'function'];
/** Dropped before the tables change, created after: what depends on tables. */
const AFTER_TABLES: SchemaObject['kind'][] = ['index', 'trigger', 'view'];

export function columnShape(table: Table): string {
  return table.columns.map((c) => `${c.name} ${c.type}`).sort().join(', ');
}

export function sameColumn(a: Column, b: Column): boolean {
  return a.type === b.type && a.notNull === b.notNull && a.default === b.default && a.generated === b.generated && a.collation === b.collation && (a.identity ?? null) === (b.identity ?? null);
}

/** `table.column` (the table possibly schema-qualified) as its two parts. */
function splitRef(ref: string): [string, string] {
  const at = ref.lastIndexOf('.');
  return [ref.slice(0, at), ref.slice(at + 1)];
}

/** Replace one identifier token in a normalised key (after a rename, the engine rewrites dependents the same way). */
function renameToken(key: string, from: string, to: string): string {
  return key
    .split(' ')
    .map((t) => (t === from ? to : t === `${from}.` ? `${to}.` : t))
    .join(' ');
}

function mentions(object: SchemaObject, table: string): boolean {
  return object.key.split(' ').includes(table);
}

/** The current schema as it is after the renames the operator decided: the comparison runs on that. */
function applyRenames(schema: Schema, tables: Record<string, string>, columns: Record<string, string>): Schema {
  const next: Schema = { ...schema, tables: {}, objects: schema.objects.map((o) => ({ ...o })) };
  for (const table of Object.values(schema.tables)) {
    const name = tables[table.name] ?? table.name;
    let createSql = table.createSql;
    for (const [from, to] of Object.entries(tables)) createSql = renameIdentifier(createSql, from, to);
    next.tables[name] = {
      ...table,
      name,
      createSql,
      columns: table.columns.map((c) => ({ ...c, definition: Object.entries(tables).reduce((d, [from, to]) => renameIdentifier(d, from, to), c.definition) })),
      foreignKeys: table.foreignKeys.map((fk) => ({ ...fk, refTable: tables[fk.refTable] ?? fk.refTable })),
    };
  }
  for (const [from, to] of Object.entries(tables)) {
    for (const o of next.objects) {
      if (o.table === from) o.table = to;
      o.key = renameToken(o.key, from, to);
    }
  }
  for (const [ref, to] of Object.entries(columns)) {
    const [table, from] = splitRef(ref);
    const t = next.tables[table];
    if (!t) continue;
    const rename = (c: string) => (c === from ? to : c);
    next.tables[table] = {
      ...t,
      createSql: renameIdentifier(t.createSql, from, to),
      columns: t.columns.map((c) => ({ ...c, name: rename(c.name), definition: renameIdentifier(c.definition, from, to) })),
      primaryKey: t.primaryKey.map(rename),
      uniques: t.uniques.map((u) => ({ ...u, key: renameToken(u.key, from, to) })),
      checks: t.checks.map((u) => ({ ...u, key: renameToken(u.key, from, to) })),
      foreignKeys: t.foreignKeys.map((fk) => ({ ...fk, columns: fk.columns.map(rename) })),
    };
    for (const other of Object.values(next.tables)) {
      other.foreignKeys = other.foreignKeys.map((fk) => (fk.refTable === table ? { ...fk, refColumns: fk.refColumns.map(rename) } : fk));
    }
    for (const o of next.objects) if (o.table === table || mentions(o, table)) o.key = renameToken(o.key, from, to);
  }
  return next;
}

/** Order views so that one that names another comes after it. */
function dependencyOrder(objects: SchemaObject[]): SchemaObject[] {
  const left = [...objects];
  const done: SchemaObject[] = [];
  while (left.length > 0) {
    const index = left.findIndex((o) => !left.some((other) => other !== o && other.kind === 'view' && mentions(o, other.name)));
    done.push(...left.splice(index === -1 ? 0 : index, 1));
  }
  return done;
}

/** What turns `current` into `desired`, and back; findings for what it will not decide alone. */
export function planDiff(current: Schema, desired: Schema, dialect: DialectPlanner, options: PlanOptions = {}): DiffPlan {
  const findings: Finding[] = [];
  const renameTables = options.renameTables ?? {};
  const renameColumns = options.renameColumns ?? {};
  for (const [from, to] of Object.entries(renameTables)) {
    if (!current.tables[from]) findings.push({ code: 'bad-option', message: `--rename-table ${from}=${to}: the current schema has no table ${from}.`, hint: 'Name a table the current schema has.' });
    else if (!desired.tables[to]) findings.push({ code: 'bad-option', message: `--rename-table ${from}=${to}: the desired schema has no table ${to}.`, hint: 'Name a table of the desired schema.' });
  }
  const cur = applyRenames(current, renameTables, {});
  for (const [ref, to] of Object.entries(renameColumns)) {
    const [table, from] = splitRef(ref);
    const t = cur.tables[table];
    if (!t?.columns.some((c) => c.name === from) || !desired.tables[table]?.columns.some((c) => c.name === to) || t.columns.some((c) => c.name === to)) {
      findings.push({ code: 'bad-option', message: `--rename ${ref}=${to}: the current table ${table} needs a column ${from} and the desired one a column ${to} (and not both).`, hint: 'Check the table and column names (the table by its new name).' });
    }
  }
  if (findings.length > 0) return { operations: [], findings };
  const renamed = applyRenames(cur, {}, renameColumns);

  const first: Operation[] = [];
  const beforeTables: Operation[] = [];
  const tableOps: Operation[] = [];
  const drops: Operation[] = [];
  const afterDrops: Operation[] = [];
  const last: Operation[] = [];

  for (const [from, to] of Object.entries(renameTables)) tableOps.push(dialect.renameTable(from, to));
  for (const [ref, to] of Object.entries(renameColumns)) {
    const [table, from] = splitRef(ref);
    tableOps.push(dialect.renameColumn(table, from, to));
  }

  // Tables.
  const created = Object.values(desired.tables).filter((t) => !renamed.tables[t.name]);
  const removed = Object.values(renamed.tables).filter((t) => !desired.tables[t.name]);
  for (const gone of removed) {
    const twin = created.find((t) => columnShape(t) === columnShape(gone));
    if (twin && !options.allowDrop) {
      findings.push({ code: 'possible-rename', message: `Table ${gone.name} disappears while table ${twin.name} of the same columns appears: a rename?`, hint: `Rename (the rows stay): --rename-table ${gone.name}=${twin.name}. Drop ${gone.name} and its rows: --allow-drop.` });
    } else if (!options.allowDrop) {
      findings.push({ code: 'drop-needs-consent', message: `Table ${gone.name} is not in the desired schema: dropping it deletes its rows.`, hint: `Pass --allow-drop to drop it (the document names it), or keep it in the desired schema.` });
    }
  }
  const newTables = dependencyFirst(created);
  for (const table of newTables) tableOps.push(...dialect.createTable(table, desired));
  const rebuilt = new Set<string>();
  const retyped = new Set<string>();
  for (const des of Object.values(desired.tables)) {
    const curTable = renamed.tables[des.name];
    if (!curTable) continue;
    const change = tableChange(curTable, des);
    let undecided = false;
    for (const gone of change.dropped) {
      const twin = change.added.find((c) => c.type === gone.type);
      if (twin && !options.allowDrop) {
        undecided = true;
        findings.push({ code: 'possible-rename', message: `Column ${des.name}.${gone.name} disappears while ${des.name}.${twin.name} of the same type (${twin.type}) appears: a rename?`, hint: `Rename (the values stay): --rename ${des.name}.${gone.name}=${twin.name}. Drop ${des.name}.${gone.name} and its values: --allow-drop.` });
      } else if (!options.allowDrop) {
        findings.push({ code: 'drop-needs-consent', message: `Column ${des.name}.${gone.name} is not in the desired schema: dropping it deletes its values.`, hint: 'Pass --allow-drop to drop it (the document names it), or keep it in the desired schema.' });
      }
    }
    // How to change the table depends on the rename's answer: no plan for it until then.
    if (undecided || !differs(change)) continue;
    const altered = dialect.alterTable(change, options, renamed, desired);
    findings.push(...altered.findings);
    tableOps.push(...altered.operations);
    if (altered.rebuilt) rebuilt.add(des.name);
    if (altered.retyped) retyped.add(des.name);
  }
  for (const gone of removed) drops.push(dialect.dropTable(gone));

  // Everything else: created, dropped, or dropped and created again when it changed (or when
  // its table is rebuilt, which takes it along).
  const curObjects = new Map(renamed.objects.map((o) => [objectId(o), o]));
  const desObjects = new Map(desired.objects.map((o) => [objectId(o), o]));
  const forced = (o: SchemaObject) => [...rebuilt].some((t) => o.table === t || (o.kind !== 'index' && mentions(o, t))) || (o.kind === 'view' && [...retyped].some((t) => mentions(o, t)));
  const toDrop: SchemaObject[] = [];
  const toCreate: SchemaObject[] = [];
  for (const [id, o] of curObjects) {
    const want = desObjects.get(id);
    if (!want) toDrop.push(o);
    else if (want.key !== o.key || forced(o)) {
      const inPlace = want.key !== o.key ? dialect.changeObject?.(o, want, renamed) : undefined;
      if (inPlace) {
        findings.push(...inPlace.findings);
        beforeTables.push(...inPlace.operations);
        continue;
      }
      toDrop.push(o);
      toCreate.push(want);
    }
  }
  for (const [id, o] of desObjects) if (!curObjects.has(id)) toCreate.push(o);
  const byKind = (kinds: SchemaObject['kind'][], list: SchemaObject[]) => kinds.flatMap((k) => list.filter((o) => o.kind === k));
  // Views that name other views go first; then triggers, then indexes.
  for (const o of [...dependencyOrder(byKind(['view'], toDrop)).reverse(), ...byKind(['trigger', 'index'], toDrop)]) first.push(...dialect.dropObject(o, renamed));
  for (const o of byKind(BEFORE_TABLES, toCreate)) beforeTables.push(...dialect.createObject(o, renamed));
  for (const o of byKind([...BEFORE_TABLES].reverse(), toDrop)) afterDrops.push(...dialect.dropObject(o, renamed));
  for (const o of dependencyOrder(byKind(AFTER_TABLES, toCreate))) last.push(...dialect.createObject(o, renamed));
  return { operations: [...first, ...beforeTables, ...tableOps, ...drops, ...afterDrops, ...last], findings };
}

function differs(change: TableChange): boolean {
  const { current: c, desired: d } = change;
  const keys = (list: Array<{ key: string }>) => list.map((x) => x.key).sort().join('|');
  const fks = (t: Table) => t.foreignKeys.map((f) => JSON.stringify([f.columns, f.refTable, f.refColumns, f.onDelete, f.onUpdate, f.options ?? ''])).sort().join('|');
  return (
    change.added.length > 0 ||
    change.dropped.length > 0 ||
    change.changed.length > 0 ||
    c.primaryKey.join(',') !== d.primaryKey.join(',') ||
    keys(c.uniques) !== keys(d.uniques) ||
    keys(c.checks) !== keys(d.checks) ||
    fks(c) !== fks(d) ||
    (c.options ?? '') !== (d.options ?? '')
  );
}

export function tableChange(current: Table, desired: Table): TableChange {
  const added = desired.columns.filter((c) => !current.columns.some((x) => x.name === c.name));
  const dropped = current.columns.filter((c) => !desired.columns.some((x) => x.name === c.name));
  const changed = desired.columns.flatMap((d) => {
    const c = current.columns.find((x) => x.name === d.name);
    return c && !sameColumn(c, d) ? [{ current: c, desired: d }] : [];
  });
  return { current, desired, added, dropped, changed };
}

/** New tables, parents before the children that reference them (cycles keep their order). */
function dependencyFirst(tables: Table[]): Table[] {
  const left = [...tables];
  const done: Table[] = [];
  while (left.length > 0) {
    const parents = (t: Table) => [...t.foreignKeys.map((fk) => fk.refTable), ...(/^partition of (\S+)/.exec(t.options ?? '')?.slice(1) ?? [])];
    const index = left.findIndex((t) => !parents(t).some((p) => p !== t.name && left.some((o) => o.name === p)));
    done.push(...left.splice(index === -1 ? 0 : index, 1));
  }
  return done;
}

/** The document's data-loss list: every table and column the up operations drop. */
export function dataLoss(plan: DiffPlan): string[] {
  return plan.operations.flatMap((o) => o.loses ?? []);
}
