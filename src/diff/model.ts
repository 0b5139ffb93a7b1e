// The schema as diff sees it, whatever engine it came from: plain data, compared by the planner.
// Every definition is kept twice: normalised (for comparison: case, quotes and spacing do not
// make a difference) and as the engine wrote it (to create the object again).

export type Dialect = 'sqlite' | 'postgres';

export interface Column {
  name: string;
  /** The declared type, normalised (upper case, single spaces). */
  type: string;
  notNull: boolean;
  /** The default expression, normalised; null when there is none. */
  default: string | null;
  /** `expr` of GENERATED ALWAYS AS (expr), normalised, with ` stored` or ` virtual`; null for a plain column. */
  generated: string | null;
  /** A collation other than the engine's default; null otherwise. */
  collation: string | null;
  /** PostgreSQL: `always` or `by default` for an identity column. */
  identity?: string | null;
  /** The column's definition as written (SQLite: its text in CREATE TABLE; PostgreSQL: rendered from the catalog). */
  definition: string;
}

export interface ForeignKey {
  /** The constraint's name (PostgreSQL; SQLite's are anonymous unless named). */
  name?: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
  /** PostgreSQL: MATCH FULL, DEFERRABLE, INITIALLY DEFERRED (empty for the defaults). */
  options?: string;
  /** PostgreSQL: the definition as pg_get_constraintdef renders it. */
  definition?: string;
}

/** A named table constraint (unique, check, primary key) by its normalised definition. */
export interface NamedConstraint {
  name?: string;
  /** Normalised: UNIQUE (a, b), CHECK (expr). */
  key: string;
  /** As written. */
  definition: string;
}

export interface Table {
  name: string;
  columns: Column[];
  primaryKey: string[];
  uniques: NamedConstraint[];
  checks: NamedConstraint[];
  foreignKeys: ForeignKey[];
  /** SQLite: the CREATE TABLE statement as stored; PostgreSQL: rendered. */
  createSql: string;
  /** SQLite: WITHOUT ROWID / AUTOINCREMENT, which ask for a rebuild if they change. */
  options?: string;
}

/**
 * Everything that is not a table: indexes, views, triggers; on PostgreSQL also schemas,
 * sequences, enum types, extensions and functions. Holds no rows: a changed one is dropped and
 * created again (enum types excepted: the planner adds values in place).
 */
export interface SchemaObject {
  kind: ObjectKind;
  name: string;
  /** The table it belongs to (indexes, triggers). */
  table?: string;
  /** Normalised, for comparison. */
  key: string;
  create: string;
  drop: string;
  /** Enum types: their labels in order. */
  values?: string[];
  /** Indexes: a unique index (PostgreSQL builds it CONCURRENTLY like the others). */
  unique?: boolean;
}

export type ObjectKind = 'extension' | 'schema' | 'enum' | 'sequence' | 'function' | 'index' | 'trigger' | 'view';

export interface Schema {
  dialect: Dialect;
  tables: Record<string, Table>;
  objects: SchemaObject[];
}

export const objectId = (o: Pick<SchemaObject, 'kind' | 'name'>) => `${o.kind}:${o.name}`;
