import type { Column, ForeignKey, NamedConstraint, Schema, SchemaObject, Table } from '../model.js';
import { normalizeSql, quoteName } from '../normalize.js';

// A PostgreSQL schema as diff compares it, from the catalog (pg_class, pg_attribute,
// pg_constraint, pg_index…) and the server's own deparsers (pg_get_constraintdef,
// pg_get_indexdef, pg_get_viewdef, pg_get_triggerdef, pg_get_functiondef), which print the same
// object the same way whoever wrote it. Objects that belong to an extension, and dbshift's own
// bookkeeping, are left out. Names are schema-qualified outside `public`.

export interface Queryable {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'`;
const NOT_EXTENSION = (oid: string) => `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = ${oid} AND d.deptype = 'e')`;
const ACTIONS: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

/** `name` in public, `schema.name` elsewhere: both as the key and, quoted, in SQL. */
const qualified = (schema: string, name: string) => (schema === 'public' ? name : `${schema}.${name}`);
export const sqlName = (name: string) => name.split('.').map(quoteName).join('.');

interface TableRow {
  oid: number;
  nspname: string;
  relname: string;
  /** PARTITION BY …, for a partitioned table. */
  partkey: string | null;
  /** The parent and FOR VALUES …, for a partition. */
  parent: number | null;
  bound: string | null;
}

interface ColumnRow {
  attrelid: number;
  attname: string;
  type: string;
  attnotnull: boolean;
  dflt: string | null;
  attgenerated: string;
  attidentity: string;
  collation: string | null;
  serial: string | null;
}

export async function introspectPostgres(db: Queryable, bookkeeping: string[] = ['schema_migrations', 'dbshift_history']): Promise<Schema> {
  const tableRows = (
    await db.query<TableRow>(`SELECT c.oid::int AS oid, n.nspname, c.relname, CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partkey,
        (SELECT i.inhparent::int FROM pg_inherits i WHERE i.inhrelid = c.oid AND c.relispartition) AS parent, CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS bound
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND ${USER_SCHEMA} AND ${NOT_EXTENSION('c.oid')} ORDER BY 2, 3`)
  ).rows.filter((t) => !bookkeeping.includes(t.relname));
  const oids = tableRows.map((t) => t.oid);
  const nameOf = new Map(tableRows.map((t) => [t.oid, qualified(t.nspname, t.relname)]));

  // An owned sequence behind a nextval() default is what SERIAL wrote: shown as serial again.
  const columns = (
    await db.query<ColumnRow>(
      `SELECT a.attrelid::int AS attrelid, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid) AS dflt,
        a.attgenerated, a.attidentity, CASE WHEN a.attcollation <> t.typcollation THEN co.collname END AS collation,
        (SELECT s.seqtypid::regtype::text FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid
           WHERE d.refobjid = a.attrelid AND d.refobjsubid = a.attnum AND d.classid = 'pg_class'::regclass AND d.deptype = 'a') AS serial
      FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      LEFT JOIN pg_collation co ON co.oid = a.attcollation
      WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum`,
      [oids],
    )
  ).rows;

  const constraints = (
    await db.query<{ conrelid: number; conname: string; contype: string; def: string; cols: string[]; confrelid: number; refcols: string[] | null; confdeltype: string; confupdtype: string; confmatchtype: string; condeferrable: boolean; condeferred: boolean }>(
      `SELECT c.conrelid::int AS conrelid, c.conname, c.contype, pg_get_constraintdef(c.oid) AS def, c.confrelid::int AS confrelid, c.confdeltype, c.confupdtype, c.confmatchtype, c.condeferrable, c.condeferred,
         ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS cols,
         ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS refcols
       FROM pg_constraint c WHERE c.conrelid = ANY($1) AND c.contype IN ('p', 'u', 'c', 'f', 'x') ORDER BY c.conname`,
      [oids],
    )
  ).rows;

  const tables: Schema['tables'] = {};
  for (const row of tableRows) {
    const name = qualified(row.nspname, row.relname);
    const own = constraints.filter((c) => c.conrelid === row.oid);
    const cols: Column[] = columns.filter((c) => c.attrelid === row.oid).map((c) => columnOf(c));
    const unique = (c: (typeof own)[number]): NamedConstraint => ({ name: c.conname, key: normalizeSql(c.def.replace(/\s+NOT VALID$/, '')), definition: c.def });
    const foreignKeys: ForeignKey[] = own
      .filter((c) => c.contype === 'f')
      .map((c) => ({
        name: c.conname,
        columns: c.cols,
        refTable: nameOf.get(c.confrelid) ?? String(c.confrelid),
        refColumns: c.refcols ?? [],
        onDelete: ACTIONS[c.confdeltype] ?? c.confdeltype,
        onUpdate: ACTIONS[c.confupdtype] ?? c.confupdtype,
        options: [c.confmatchtype === 'f' ? 'match full' : '', c.condeferrable ? 'deferrable' : '', c.condeferred ? 'initially deferred' : ''].filter(Boolean).join(' '),
        // The default action written out: a reader (and dbshift lint) sees it was chosen.
        definition: c.confdeltype === 'a' ? c.def.replace(/(REFERENCES\s+\S+?\([^)]*\))/, '$1 ON DELETE NO ACTION') : c.def,
      }));
    const table: Table = {
      name,
      columns: cols,
      primaryKey: own.find((c) => c.contype === 'p')?.cols ?? [],
      uniques: own.filter((c) => c.contype === 'u' || c.contype === 'x').map(unique),
      checks: own.filter((c) => c.contype === 'c').map(unique),
      foreignKeys,
      createSql: '',
    };
    const pk = own.find((c) => c.contype === 'p');
    const elements = [
      ...cols.map((c) => c.definition),
      ...(pk ? [`CONSTRAINT ${quoteName(pk.conname)} ${pk.def}`] : []),
      ...own.filter((c) => c.contype === 'u' || c.contype === 'x' || c.contype === 'c').map((c) => `CONSTRAINT ${quoteName(c.conname)} ${c.def}`),
    ];
    // Partitioning is part of the table's shape: compared (options) and written as such.
    const parent = row.parent !== null ? nameOf.get(row.parent) : undefined;
    if (row.partkey) table.options = `partition by ${normalizeSql(row.partkey)}`;
    if (parent) table.options = `partition of ${parent} ${normalizeSql(row.bound ?? '')}`;
    table.createSql = parent
      ? `CREATE TABLE ${sqlName(name)} PARTITION OF ${sqlName(parent)} ${row.bound};`
      : `CREATE TABLE ${sqlName(name)} (\n  ${elements.join(',\n  ')}\n)${row.partkey ? ` PARTITION BY ${row.partkey}` : ''};`;
    tables[name] = table;
  }
  return { dialect: 'postgres', tables, objects: [...(await otherObjects(db, oids, nameOf))] };
}

function columnOf(c: ColumnRow): Column {
  const serial = c.serial && c.dflt?.startsWith('nextval(') ? ({ integer: 'serial', bigint: 'bigserial', smallint: 'smallserial' } as Record<string, string>)[c.serial] : undefined;
  const type = serial ?? c.type;
  const generated = c.attgenerated === 's' ? `${normalizeSql(c.dflt ?? '')} stored` : null;
  const identity = c.attidentity === 'a' ? 'always' : c.attidentity === 'd' ? 'by default' : null;
  const dflt = serial || generated ? null : c.dflt;
  const parts = [quoteName(c.attname), type];
  if (c.collation) parts.push(`COLLATE ${quoteName(c.collation)}`);
  if (generated) parts.push(`GENERATED ALWAYS AS (${c.dflt}) STORED`);
  if (identity) parts.push(`GENERATED ${identity.toUpperCase()} AS IDENTITY`);
  if (dflt !== null) parts.push(`DEFAULT ${dflt}`);
  if (c.attnotnull && !serial && !identity) parts.push('NOT NULL');
  return {
    name: c.attname,
    type,
    notNull: c.attnotnull,
    default: dflt === null ? null : normalizeSql(dflt),
    generated,
    collation: c.collation,
    identity,
    definition: parts.join(' '),
  };
}

async function otherObjects(db: Queryable, oids: number[], tableName: Map<number, string>): Promise<SchemaObject[]> {
  const objects: SchemaObject[] = [];
  const add = (o: Omit<SchemaObject, 'key'> & { key?: string }) => objects.push({ ...o, key: o.key ?? normalizeSql(o.create) });

  for (const r of (await db.query<{ extname: string }>(`SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1`)).rows) {
    add({ kind: 'extension', name: r.extname, key: r.extname, create: `CREATE EXTENSION IF NOT EXISTS ${quoteName(r.extname)};`, drop: `DROP EXTENSION ${quoteName(r.extname)};` });
  }
  for (const r of (await db.query<{ nspname: string }>(`SELECT n.nspname FROM pg_namespace n WHERE ${USER_SCHEMA} AND n.nspname <> 'public' AND ${NOT_EXTENSION('n.oid')} ORDER BY 1`)).rows) {
    add({ kind: 'schema', name: r.nspname, create: `CREATE SCHEMA ${quoteName(r.nspname)};`, drop: `DROP SCHEMA ${quoteName(r.nspname)};` });
  }
  const enums = await db.query<{ nspname: string; typname: string; labels: string[] }>(
    `SELECT n.nspname, t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
     WHERE ${USER_SCHEMA} AND ${NOT_EXTENSION('t.oid')} GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  for (const r of enums.rows) {
    const name = qualified(r.nspname, r.typname);
    add({ kind: 'enum', name, values: r.labels, create: `CREATE TYPE ${sqlName(name)} AS ENUM (${r.labels.map(literal).join(', ')});`, drop: `DROP TYPE ${sqlName(name)};` });
  }
  const sequences = await db.query<{ nspname: string; relname: string; type: string; seqstart: string; seqincrement: string; seqmin: string; seqmax: string; seqcache: string; seqcycle: boolean }>(
    `SELECT n.nspname, c.relname, s.seqtypid::regtype::text AS type, s.seqstart::text, s.seqincrement::text, s.seqmin::text, s.seqmax::text, s.seqcache::text, s.seqcycle
     FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ${USER_SCHEMA} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i', 'e')) ORDER BY 1, 2`,
  );
  for (const r of sequences.rows) {
    const name = qualified(r.nspname, r.relname);
    add({ kind: 'sequence', name, create: `CREATE SEQUENCE ${sqlName(name)} AS ${r.type} INCREMENT BY ${r.seqincrement} MINVALUE ${r.seqmin} MAXVALUE ${r.seqmax} START WITH ${r.seqstart} CACHE ${r.seqcache}${r.seqcycle ? ' CYCLE' : ''};`, drop: `DROP SEQUENCE ${sqlName(name)};` });
  }
  const functions = await db.query<{ nspname: string; proname: string; args: string; def: string }>(
    `SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid) AS args, pg_get_functiondef(p.oid) AS def FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE ${USER_SCHEMA} AND p.prokind IN ('f', 'p') AND ${NOT_EXTENSION('p.oid')} ORDER BY 1, 2, 3`,
  );
  for (const r of functions.rows) {
    const name = `${qualified(r.nspname, r.proname)}(${r.args})`;
    add({ kind: 'function', name, create: `${r.def.trim()};`, drop: `DROP FUNCTION ${sqlName(qualified(r.nspname, r.proname))}(${r.args});` });
  }
  const indexes = await db.query<{ relname: string; nspname: string; indrelid: number; def: string; indisunique: boolean }>(
    `SELECT ic.relname, n.nspname, i.indrelid::int AS indrelid, pg_get_indexdef(i.indexrelid) AS def, i.indisunique FROM pg_index i
     JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
     WHERE i.indrelid = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')) ORDER BY 1`,
    [oids],
  );
  for (const r of indexes.rows) {
    const name = qualified(r.nspname, r.relname);
    add({ kind: 'index', name, table: tableName.get(r.indrelid)!, unique: r.indisunique, create: `${r.def};`, drop: `DROP INDEX ${sqlName(name)};` });
  }
  const triggers = await db.query<{ tgname: string; tgrelid: number; def: string }>(
    `SELECT t.tgname, t.tgrelid::int AS tgrelid, pg_get_triggerdef(t.oid) AS def FROM pg_trigger t WHERE t.tgrelid = ANY($1) AND NOT t.tgisinternal ORDER BY 1`,
    [oids],
  );
  for (const r of triggers.rows) {
    const table = tableName.get(r.tgrelid)!;
    add({ kind: 'trigger', name: `${table}.${r.tgname}`, table, create: `${r.def};`, drop: `DROP TRIGGER ${quoteName(r.tgname)} ON ${sqlName(table)};` });
  }
  const views = await db.query<{ nspname: string; relname: string; relkind: string; def: string }>(
    `SELECT n.nspname, c.relname, c.relkind::text, pg_get_viewdef(c.oid) AS def FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('v', 'm') AND ${USER_SCHEMA} AND ${NOT_EXTENSION('c.oid')} ORDER BY 1, 2`,
  );
  for (const r of views.rows) {
    const name = qualified(r.nspname, r.relname);
    const kind = r.relkind === 'm' ? 'MATERIALIZED VIEW' : 'VIEW';
    add({ kind: 'view', name, create: `CREATE ${kind} ${sqlName(name)} AS\n${r.def.trim().replace(/;$/, '')};`, drop: `DROP ${kind} ${sqlName(name)};` });
  }
  return objects;
}

export const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;
