import type { PgStatement } from './statements.js';

// Which migrations the replay can skip. The replay on a scratch database exists to find the
// statements PostgreSQL rejects on the schema the chain builds; for the common, plain DDL
// (CREATE TABLE of built-in types, keys and foreign keys to known columns, CREATE INDEX on known
// columns, ADD/DROP COLUMN, DROP of known tables and indexes) the parse tree and a model of the
// schema answer the same question. A statement is *vouched for* when every name it uses is known
// to the model and it can only succeed; anything else (a CHECK, a function, a view, data, a type
// the model does not know) needs the replay, and the chain is replayed (once) up to the last
// migration that does. The model never reports an error itself: only PostgreSQL does.

type Node = Record<string, unknown>;

interface Table {
  /** Column → its type's last name (int4, text, timestamptz…; serial types as their integer). */
  columns: Map<string, string>;
  /** Column lists with a primary-key or unique index: what a foreign key may reference. */
  uniques: string[][];
  primaryKey?: string[] | undefined;
  /** Tables whose foreign keys reference this one: DROP TABLE without CASCADE fails while they exist. */
  referencedBy: Set<string>;
}

const BUILTIN = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'text', 'varchar', 'bpchar', 'bool', 'timestamptz', 'timestamp', 'date', 'time', 'timetz', 'interval', 'uuid', 'jsonb', 'json', 'bytea', 'inet', 'cidr']);
const SERIAL: Record<string, string> = { serial: 'int4', serial4: 'int4', bigserial: 'int8', serial8: 'int8', smallserial: 'int2', serial2: 'int2' };
const NUMERIC = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric']);
const TIME = new Set(['timestamptz', 'timestamp', 'date']);
/** Statement types the model follows; after any other, objects may exist that it does not know. */
const FOLLOWED = new Set(['CreateStmt', 'IndexStmt', 'AlterTableStmt', 'DropStmt', 'TransactionStmt', 'CommentStmt', 'VariableSetStmt', 'RenameStmt']);
const RENAMES = new Set(['OBJECT_TABLE', 'OBJECT_COLUMN', 'OBJECT_INDEX']);

function strings(list: unknown): string[] {
  return ((list ?? []) as Array<{ String?: { sval?: string } }>).map((i) => i.String?.sval ?? '').filter(Boolean);
}
function child(node: unknown, type: string): Node | undefined {
  return (node as Record<string, Node> | undefined)?.[type];
}
const sameColumns = (a: string[], b: string[]) => a.length === b.length && a.every((c, i) => c === b[i]);

export class SchemaModel {
  private readonly tables = new Map<string, Table>();
  /** Every name in pg_class the chain made: tables, indexes (named and implicit), sequences. */
  private readonly relations = new Set<string>();
  /** False once a statement the model does not follow ran (a function, DO, a code migration…): from then on it vouches for nothing. */
  private complete = true;

  /** The model cannot follow what ran (a code migration, a file the parser rejects). */
  lose(): void {
    this.complete = false;
  }

  /** Whether the statement can only succeed on the schema so far; the model then follows it either way. */
  accept(statement: PgStatement): boolean {
    const vouched = this.complete && this.vouch(statement);
    this.apply(statement);
    const n = statement.node;
    // Names resolve elsewhere after a search_path change; a rename of anything but a table, column or index is not followed.
    const lost = (statement.type === 'VariableSetStmt' && n.name === 'search_path') || (statement.type === 'RenameStmt' && !RENAMES.has(String(n.renameType)));
    if (!FOLLOWED.has(statement.type) || lost) this.complete = false;
    return vouched;
  }

  private vouch({ type, node: n }: PgStatement): boolean {
    switch (type) {
      case 'TransactionStmt':
      case 'VariableSetStmt':
        return true;
      case 'RenameStmt': {
        const newName = String(n.newname ?? '');
        if (n.renameType === 'OBJECT_COLUMN') {
          const table = this.tables.get(relationName(n.relation) ?? '');
          return !!table && table.columns.has(String(n.subname)) && !table.columns.has(newName);
        }
        const name = relationName(n.relation) ?? '';
        if (n.renameType === 'OBJECT_TABLE') return this.tables.has(name) && !this.relations.has(newName);
        return n.renameType === 'OBJECT_INDEX' && this.relations.has(name) && !this.tables.has(name) && !this.relations.has(newName);
      }
      case 'CreateStmt': {
        const name = relationName(n.relation);
        if (!name || this.relations.has(name) || n.inhRelations || n.partbound || n.partspec || n.ofTypename) return false;
        const elements = (n.tableElts ?? []) as Node[];
        const columns = new Map<string, string>();
        for (const e of elements) {
          const def = child(e, 'ColumnDef');
          if (!def) continue;
          const colType = columnType(def);
          if (!colType || columns.has(String(def.colname))) return false;
          columns.set(String(def.colname), colType);
        }
        return elements.every((e) => {
          const def = child(e, 'ColumnDef');
          if (def) return this.columnVouched(name, def, columns);
          const constraint = child(e, 'Constraint');
          return !!constraint && this.constraintVouched(constraint, columns, strings(constraint.keys).length ? strings(constraint.keys) : strings(constraint.fk_attrs));
        });
      }
      case 'IndexStmt': {
        const table = this.tables.get(relationName(n.relation) ?? '');
        const name = typeof n.idxname === 'string' ? n.idxname : undefined;
        if (!table || !name || this.relations.has(name) || n.whereClause || (n.accessMethod && n.accessMethod !== 'btree')) return false;
        return ((n.indexParams ?? []) as Node[]).every((p) => {
          const elem = child(p, 'IndexElem');
          return !!elem && typeof elem.name === 'string' && table.columns.has(elem.name) && !elem.expr && !elem.opclass && !elem.collation;
        });
      }
      case 'AlterTableStmt': {
        const name = relationName(n.relation) ?? '';
        const table = this.tables.get(name);
        if (!table || n.objtype !== 'OBJECT_TABLE') return false;
        return ((n.cmds ?? []) as Node[]).every((c) => {
          const cmd = child(c, 'AlterTableCmd') ?? {};
          const column = String(cmd.name ?? '');
          switch (cmd.subtype) {
            case 'AT_AddColumn': {
              const def = child(cmd.def, 'ColumnDef');
              const colType = def && columnType(def);
              if (!def || !colType || table.columns.has(String(def.colname))) return false;
              return this.columnVouched(name, def, new Map([...table.columns, [String(def.colname), colType]]));
            }
            case 'AT_DropColumn':
              // A column a key or index uses may be refused (or cascade); leave those to the server.
              return table.columns.has(column) && !table.uniques.some((u) => u.includes(column)) && table.referencedBy.size === 0;
            case 'AT_SetNotNull':
            case 'AT_DropNotNull':
              return table.columns.has(column) && !(cmd.subtype === 'AT_DropNotNull' && table.primaryKey?.includes(column));
            default:
              return false;
          }
        });
      }
      case 'DropStmt': {
        const names = ((n.objects ?? []) as Node[]).map((o) => strings(child(o, 'List')?.items));
        if (names.some((parts) => parts.length !== 1)) return false;
        if (n.removeType === 'OBJECT_TABLE') return names.every(([t]) => { const table = this.tables.get(t!); return !!table && [...table.referencedBy].every((c) => c === t); });
        // Indexes made by CREATE INDEX only (one behind a constraint cannot be dropped alone).
        return n.removeType === 'OBJECT_INDEX' && names.every(([i]) => this.relations.has(i!) && !this.tables.has(i!) && !i!.endsWith('_pkey') && !i!.endsWith('_key') && !i!.endsWith('_seq'));
      }
      default:
        return false;
    }
  }

  private columnVouched(table: string, def: Node, columns: ReadonlyMap<string, string>): boolean {
    const colType = columns.get(String(def.colname))!;
    return ((def.constraints ?? []) as Node[]).every((c) => {
      const constraint = child(c, 'Constraint');
      if (!constraint) return false;
      switch (constraint.contype) {
        case 'CONSTR_DEFAULT':
          return defaultFits(constraint.raw_expr, colType);
        case 'CONSTR_IDENTITY':
          return ['int2', 'int4', 'int8'].includes(colType);
        default:
          return this.constraintVouched(constraint, columns, [String(def.colname)], table);
      }
    });
  }

  private constraintVouched(constraint: Node, columns: ReadonlyMap<string, string>, own: string[], _table?: string): boolean {
    if (typeof constraint.conname === 'string' && this.relations.has(constraint.conname)) return false;
    switch (constraint.contype) {
      case 'CONSTR_NOTNULL':
      case 'CONSTR_NULL':
        return true;
      case 'CONSTR_PRIMARY':
      case 'CONSTR_UNIQUE':
        return !constraint.indexname && !constraint.options && own.every((c) => columns.has(c));
      case 'CONSTR_CHECK':
        // NO INHERIT and NOT VALID change nothing PostgreSQL could refuse here; the expression is what it judges.
        return expressionClass(constraint.raw_expr, columns) === 'bool';
      case 'CONSTR_FOREIGN': {
        const parent = this.tables.get(relationName(constraint.pktable) ?? '');
        if (!parent || !own.every((c) => columns.has(c))) return false;
        const referenced = strings(constraint.pk_attrs).length ? strings(constraint.pk_attrs) : (parent.primaryKey ?? []);
        // The referenced columns carry a key, and each pair of columns has one type.
        return referenced.length === own.length && parent.uniques.some((u) => sameColumns(u, referenced)) && own.every((c, i) => columns.get(c) === parent.columns.get(referenced[i]!));
      }
      default:
        return false;
    }
  }

  /** Follow the statement's effect on tables, columns, keys and names (vouched for or not: the replay then runs it). */
  private apply({ type, node: n }: PgStatement): void {
    if (type === 'CreateStmt') {
      const name = relationName(n.relation);
      if (!name) return;
      const table: Table = { columns: new Map(), uniques: [], referencedBy: new Set() };
      this.tables.set(name, table);
      this.relations.add(name);
      for (const e of (n.tableElts ?? []) as Node[]) {
        const def = child(e, 'ColumnDef');
        if (def) this.addColumn(name, table, def);
        const constraint = child(e, 'Constraint');
        if (constraint) this.addConstraint(name, table, constraint, strings(constraint.keys).length ? strings(constraint.keys) : strings(constraint.fk_attrs));
      }
    } else if (type === 'IndexStmt') {
      const table = this.tables.get(relationName(n.relation) ?? '');
      if (typeof n.idxname === 'string') this.relations.add(n.idxname);
      const columns = ((n.indexParams ?? []) as Node[]).map((p) => String(child(p, 'IndexElem')?.name ?? ''));
      if (table && n.unique && !n.whereClause && columns.every(Boolean)) table.uniques.push(columns);
    } else if (type === 'AlterTableStmt') {
      const name = relationName(n.relation) ?? '';
      const table = this.tables.get(name);
      if (!table) return;
      for (const c of (n.cmds ?? []) as Node[]) {
        const cmd = child(c, 'AlterTableCmd') ?? {};
        if (cmd.subtype === 'AT_AddColumn' && child(cmd.def, 'ColumnDef')) this.addColumn(name, table, child(cmd.def, 'ColumnDef')!);
        if (cmd.subtype === 'AT_DropColumn') table.columns.delete(String(cmd.name));
        if (cmd.subtype === 'AT_AddConstraint' && child(cmd.def, 'Constraint')) {
          const constraint = child(cmd.def, 'Constraint')!;
          this.addConstraint(name, table, constraint, strings(constraint.keys).length ? strings(constraint.keys) : strings(constraint.fk_attrs));
        }
        if (cmd.subtype === 'AT_AlterColumnType') table.columns.set(String(cmd.name), columnType(child(cmd.def, 'ColumnDef') ?? {}) ?? '?');
      }
    } else if (type === 'RenameStmt') {
      const name = relationName(n.relation) ?? '';
      const newName = String(n.newname ?? '');
      if (n.renameType === 'OBJECT_COLUMN') {
        const table = this.tables.get(name);
        const columnType = table?.columns.get(String(n.subname));
        if (!table || columnType === undefined) return;
        table.columns.delete(String(n.subname));
        table.columns.set(newName, columnType);
        table.uniques = table.uniques.map((u) => u.map((c) => (c === n.subname ? newName : c)));
        if (table.primaryKey) table.primaryKey = table.primaryKey.map((c) => (c === n.subname ? newName : c));
      } else if (n.renameType === 'OBJECT_TABLE' || n.renameType === 'OBJECT_INDEX') {
        if (!this.relations.delete(name)) return;
        this.relations.add(newName);
        const table = this.tables.get(name);
        if (table) {
          this.tables.delete(name);
          this.tables.set(newName, table);
          for (const t of this.tables.values()) if (t.referencedBy.delete(name)) t.referencedBy.add(newName);
        }
      }
    } else if (type === 'DropStmt') {
      for (const o of (n.objects ?? []) as Node[]) {
        const name = strings(child(o, 'List')?.items).at(-1) ?? '';
        if (n.removeType === 'OBJECT_TABLE') {
          this.tables.delete(name);
          for (const t of this.tables.values()) t.referencedBy.delete(name);
        }
        this.relations.delete(name);
      }
    }
  }

  private addColumn(tableName: string, table: Table, def: Node): void {
    const name = String(def.colname);
    const typeNames = strings((def.typeName as Node | undefined)?.names);
    table.columns.set(name, columnType(def) ?? typeNames.at(-1) ?? '?');
    if (SERIAL[typeNames.at(-1) ?? '']) this.relations.add(`${tableName}_${name}_seq`);
    for (const c of (def.constraints ?? []) as Node[]) {
      const constraint = child(c, 'Constraint');
      if (constraint?.contype === 'CONSTR_IDENTITY') this.relations.add(`${tableName}_${name}_seq`);
      if (constraint) this.addConstraint(tableName, table, constraint, [name]);
    }
  }

  private addConstraint(tableName: string, table: Table, constraint: Node, columns: string[]): void {
    if (constraint.contype === 'CONSTR_PRIMARY' || constraint.contype === 'CONSTR_UNIQUE') {
      table.uniques.push(columns);
      if (constraint.contype === 'CONSTR_PRIMARY') table.primaryKey = columns;
      this.relations.add(typeof constraint.conname === 'string' ? constraint.conname : constraint.contype === 'CONSTR_PRIMARY' ? `${tableName}_pkey` : `${tableName}_${columns.join('_')}_key`);
    }
    if (constraint.contype === 'CONSTR_FOREIGN') this.tables.get(relationName(constraint.pktable) ?? '')?.referencedBy.add(tableName);
  }
}

/** An unqualified (or public.) table name; a name in another schema is not the model's to vouch for. */
function relationName(relation: unknown): string | undefined {
  const r = relation as { relname?: string; schemaname?: string; relpersistence?: string } | undefined;
  if (!r?.relname || (r.schemaname && r.schemaname !== 'public') || r.relpersistence === 't') return undefined;
  return r.relname;
}

/** The column's type when it is a built-in one (serial types as their integer), else undefined. */
function columnType(def: Node): string | undefined {
  const typeName = def.typeName as Node | undefined;
  const names = strings(typeName?.names);
  const last = names.at(-1) ?? '';
  if (names.length > 2 || (names.length === 2 && names[0] !== 'pg_catalog') || typeName?.arrayBounds || typeName?.setof) return undefined;
  return SERIAL[last] ?? (BUILTIN.has(last) ? last : undefined);
}

type ExpressionClass = 'num' | 'text' | 'bool';
const COMPARISONS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);
const TEXT = new Set(['text', 'varchar', 'bpchar']);
/** Functions of one text argument a CHECK may use, and what they return. */
const TEXT_FUNCTIONS: Record<string, ExpressionClass> = { length: 'num', char_length: 'num', octet_length: 'num', lower: 'text', upper: 'text', btrim: 'text' };

/**
 * What a CHECK expression (or a part of it) yields when PostgreSQL can only accept it: the
 * table's own columns of built-in types, literals, comparisons between one kind, IN lists,
 * IS [NOT] NULL, AND/OR/NOT, and length()/lower()/upper() of text. Anything else (another
 * function, an operator such as ~, a cast, a subquery, a string compared with a number) is
 * undefined: PostgreSQL's to judge, by the replay.
 */
function expressionClass(expr: unknown, columns: ReadonlyMap<string, string>): ExpressionClass | undefined {
  const column = child(expr, 'ColumnRef');
  if (column) {
    const fields = (column.fields ?? []) as Node[];
    const type = fields.length === 1 ? columns.get(String(child(fields[0], 'String')?.sval ?? '')) : undefined;
    return type === undefined ? undefined : NUMERIC.has(type) ? 'num' : TEXT.has(type) ? 'text' : type === 'bool' ? 'bool' : undefined;
  }
  const constant = child(expr, 'A_Const');
  if (constant) return 'ival' in constant || 'fval' in constant ? 'num' : 'sval' in constant ? 'text' : 'boolval' in constant ? 'bool' : undefined;
  const call = child(expr, 'FuncCall');
  if (call) {
    const name = strings(call.funcname);
    const args = (call.args ?? []) as Node[];
    const result = name.length === 1 ? TEXT_FUNCTIONS[name[0]!] : undefined;
    const plain = !call.agg_star && !call.agg_distinct && !call.agg_order && !call.agg_filter && !call.over && !call.func_variadic;
    return result && plain && args.length === 1 && expressionClass(args[0], columns) === 'text' ? result : undefined;
  }
  const test = child(expr, 'NullTest');
  if (test) return expressionClass(test.arg, columns) ? 'bool' : undefined;
  const bool = child(expr, 'BoolExpr');
  if (bool) return ((bool.args ?? []) as Node[]).every((a) => expressionClass(a, columns) === 'bool') ? 'bool' : undefined;
  const op = child(expr, 'A_Expr');
  if (!op) return undefined;
  const operator = strings(op.name);
  if (operator.length !== 1 || !COMPARISONS.has(operator[0]!)) return undefined;
  const left = expressionClass(op.lexpr, columns);
  if (!left) return undefined;
  if (op.kind === 'AEXPR_OP') return expressionClass(op.rexpr, columns) === left ? 'bool' : undefined;
  if (op.kind === 'AEXPR_IN') {
    const items = (child(op.rexpr, 'List')?.items ?? []) as Node[];
    return items.length > 0 && items.every((item) => expressionClass(item, columns) === left) ? 'bool' : undefined;
  }
  return undefined;
}

/** A DEFAULT that cannot fail for this type: a literal of its kind, NULL, now()/CURRENT_TIMESTAMP for times, gen_random_uuid() for uuid. */
function defaultFits(expr: unknown, type: string): boolean {
  const constant = child(expr, 'A_Const');
  if (constant) {
    if (constant.isnull) return true;
    if (constant.ival || constant.fval) return NUMERIC.has(type);
    if (constant.boolval) return type === 'bool';
    return constant.sval !== undefined && type === 'text';
  }
  if (child(expr, 'SQLValueFunction')?.op === 'SVFOP_CURRENT_TIMESTAMP') return TIME.has(type);
  const call = child(expr, 'FuncCall');
  const fn = call && !call.args ? strings(call.funcname).join('.') : '';
  return (fn === 'now' && TIME.has(type)) || (fn === 'gen_random_uuid' && type === 'uuid');
}
