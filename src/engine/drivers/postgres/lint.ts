import crypto from 'node:crypto';
import path from 'node:path';
import { migrationLabel } from '../../discover.js';
import type { MigrationDefinition, MigrationSet } from '../../types.js';
import { docName, documentFindings, LINT_RULE_IDS, mentions, readDataLossSection, SQLITE_RULES } from '../../lint.js';
import { findingOf, unrecognizedFindings, type LintFinding, type LintRegistry } from '../../lint-registry.js';
import { judgeFindings, type JudgedFindings } from '../../lint-settings.js';
import type { PgTarget } from './connection.js';
import type { PgContext } from './context.js';
import { PG_RULES, type PgRule } from './lint-rules.js';
import type { LiveTable } from './live-tables.js';
import { preparseMigrations } from './load.js';
import { SchemaModel } from './lint-schema.js';
import { isOwnTransactionControl, loadParser, quoteIdent, splitPgStatements, PgSyntaxError, type PgStatement } from './statements.js';

// PostgreSQL's pitfalls, found with its own parser: seed 002's team conventions (foreign keys
// with ON DELETE and an index, timestamptz, data loss documented) and the lock hazards squawk
// and strong_migrations warn about, each with file, line and a one-line fix (the rules are
// listed in lint-rules.ts). The parse and a model of the schema the chain builds are enough for
// all of them; only `sql-error` needs the statements run, on a scratch database on a server.

type Node = Record<string, unknown>;
type Up = MigrationDefinition<PgContext>;

/** PostgreSQL's rules with the document rules and the shared ones: what judges a PostgreSQL lint's findings. */
export const PG_LINT_REGISTRY: LintRegistry = { ...SQLITE_RULES, ...PG_RULES };

const VOLATILE = new Set(['random', 'gen_random_uuid', 'uuid_generate_v1', 'uuid_generate_v1mc', 'uuid_generate_v4', 'clock_timestamp', 'timeofday', 'nextval', 'txid_current']);
const SERIAL = new Set(['serial', 'bigserial', 'smallserial', 'serial4', 'serial8', 'serial2']);
/**
 * Statements that reach beyond the scratch database (the cluster's databases, roles,
 * tablespaces, settings, the server's files and network): never replayed, or `DROP DATABASE
 * reporting` in a migration would drop the server's real one during a lint.
 */
const OUTSIDE_SCRATCH = new Set([
  'CreatedbStmt', 'DropdbStmt', 'AlterDatabaseStmt', 'AlterDatabaseSetStmt', 'AlterDatabaseRefreshCollStmt', 'AlterSystemStmt',
  'CreateRoleStmt', 'AlterRoleStmt', 'AlterRoleSetStmt', 'DropRoleStmt', 'GrantRoleStmt', 'ReassignOwnedStmt',
  'CreateTableSpaceStmt', 'DropTableSpaceStmt', 'AlterTableSpaceOptionsStmt',
  'CreateSubscriptionStmt', 'AlterSubscriptionStmt', 'DropSubscriptionStmt', 'LoadStmt',
]);
const SMALL_INT = new Set(['int4', 'int2', 'serial', 'serial4', 'smallserial', 'serial2']);
/** PostgreSQL's NAMEDATALEN - 1: longer names are truncated without an error. */
const MAX_IDENTIFIER_BYTES = 63;

function strings(list: unknown): string[] {
  return ((list ?? []) as Array<{ String?: { sval?: string } }>).map((i) => i.String?.sval ?? '').filter(Boolean);
}

function child(node: unknown, type: string): Node | undefined {
  return (node as Record<string, Node> | undefined)?.[type];
}

/** The schema as the chain builds it, as far as the rules need it. */
interface Model {
  /** Table → the migration version that created it. */
  createdIn: Map<string, number>;
  /** Table → the column lists its indexes (and primary keys, unique constraints) start with. */
  indexes: Map<string, string[][]>;
  /** Index name → the migration version that created it. */
  indexCreatedIn: Map<string, number>;
  /** "table.column" declared NOT NULL (or primary key), or set so. */
  notNull: Set<string>;
  /** "table.column" with a validated CHECK (column IS NOT NULL). */
  notNullChecks: Set<string>;
  /** Constraint name → "table.column" of a NOT VALID CHECK (column IS NOT NULL), until validated. */
  pendingChecks: Map<string, string>;
  /** What the replay can skip. */
  schema: SchemaModel;
}

interface ForeignKey {
  table: string;
  columns: string[];
  parent: string;
  line: number;
}

class FileLinter {
  readonly findings: LintFinding[] = [];
  private readonly lineStarts: number[] = [0];
  readonly foreignKeys: ForeignKey[] = [];
  /** Lines of the file's own open BEGINs (none, or one; more is nesting). */
  private readonly openTransactions: number[] = [];
  /** A `SET lock_timeout` came before (or the file's first locking statement was already reported). */
  private lockTimeoutSettled = false;

  constructor(
    readonly file: string,
    sql: string,
    readonly version: number,
    readonly model: Model,
    /** The document's "Data-loss risk" section, read only when a DROP needs it. */
    private readonly readDoc: () => string,
    readonly docFile: string,
  ) {
    const bytes = Buffer.from(sql, 'utf8');
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) this.lineStarts.push(i + 1);
  }

  private docText: string | undefined;
  get doc(): string {
    return (this.docText ??= this.readDoc());
  }

  /**
   * The line of a byte offset in this file the parser reports (statements.ts moves the offsets
   * of files parsed in one batch, or in pieces, to their own file), or the statement's line. A
   * line outside the statement would be a wrong offset: the statement's own line is the honest answer then.
   */
  lineOf(location: unknown, statement: PgStatement): number {
    if (typeof location !== 'number' || location < 0) return statement.line;
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= location) lo = mid;
      else hi = mid - 1;
    }
    const line = lo + 1;
    const lastLine = statement.line + (statement.text.match(/\n/g)?.length ?? 0);
    return line >= statement.line && line <= lastLine ? line : statement.line;
  }

  add(rule: PgRule, line: number, message: string, fix?: string): void {
    this.findings.push(findingOf(PG_RULES, rule, this.file, line, message, fix));
  }

  /** Created by an earlier migration (or before dbshift): a lock on it blocks the running app. */
  existing(table: string): boolean {
    return this.model.createdIn.get(table) !== this.version;
  }

  addIndex(table: string, columns: string[]): void {
    if (columns.length === 0) return;
    this.model.indexes.set(table, [...(this.model.indexes.get(table) ?? []), columns]);
  }

  /** The parser has already cut long names to 63 bytes (with only a NOTICE), so the text is read: every identifier outside literals and comments. */
  longIdentifiers(statement: PgStatement): void {
    const text = statement.text.replace(/'(?:[^']|'')*'|--[^\n]*|\/\*[\s\S]*?\*\//g, ' ');
    for (const match of text.matchAll(/"((?:[^"]|"")+)"|[A-Za-z_][A-Za-z0-9_$]*/g)) {
      const name = match[1]?.replace(/""/g, '"') ?? match[0];
      const bytes = Buffer.byteLength(name, 'utf8');
      if (bytes <= MAX_IDENTIFIER_BYTES) continue;
      const line = statement.line + (statement.text.slice(0, match.index).match(/\n/g) ?? []).length;
      this.add('identifier-too-long', line, `The name ${name} is ${bytes} bytes long: PostgreSQL keeps only its first ${MAX_IDENTIFIER_BYTES} bytes, silently (two long names can become one).`);
    }
  }

  column(table: string, def: Node, statement: PgStatement, added: boolean, keyColumns: ReadonlySet<string> = new Set()): void {
    const typeNode = def.typeName as Node | undefined;
    const typeName = strings(typeNode?.names).at(-1) ?? '';
    const name = String(def.colname ?? '');
    const line = this.lineOf(def.location, statement);
    const constraints = ((def.constraints ?? []) as Node[]).map((c) => child(c, 'Constraint')).filter((c): c is Node => !!c);
    const has = (type: string) => constraints.some((c) => c.contype === type);
    if (typeName === 'timestamp') {
      this.add('timestamp-without-time-zone', line, `${table}.${name} is timestamp without time zone: its values lose the offset they were written with.`, `Use timestamptz (TIMESTAMP WITH TIME ZONE) for ${table}.${name}.`);
    }
    if (typeName === 'varchar' && Array.isArray(typeNode?.typmods)) this.add('varchar-length', line, `${table}.${name} is varchar(n): changing the limit later can take an ACCESS EXCLUSIVE lock.`);
    if (typeName === 'bpchar') this.add('char-column', line, `${table}.${name} is char(n): values are blank-padded, and it is no faster than text.`);
    const isId = has('CONSTR_PRIMARY') || has('CONSTR_IDENTITY') || has('CONSTR_FOREIGN') || SERIAL.has(typeName) || keyColumns.has(name) || name === 'id' || name.endsWith('_id');
    if (isId && SMALL_INT.has(typeName)) this.add('int-id-column', line, `${table}.${name} is ${typeName}, a 32-bit (or smaller) id: it runs out, and widening it later rewrites the table.`);
    if (SERIAL.has(typeName)) this.add('serial-column', line, `${table}.${name} is ${typeName}: its sequence is a separate object, with its own owner and grants.`);
    if (has('CONSTR_NOTNULL') || has('CONSTR_PRIMARY') || keyColumns.has(name)) this.model.notNull.add(`${table}.${name}`);
    for (const constraint of constraints) {
      if (constraint.contype === 'CONSTR_PRIMARY' || constraint.contype === 'CONSTR_UNIQUE') this.addIndex(table, [name]);
      if (constraint.contype === 'CONSTR_FOREIGN') this.foreignKey(table, [name], constraint, statement, added);
      if (added && constraint.contype === 'CONSTR_DEFAULT' && this.existing(table) && volatile(constraint.raw_expr)) {
        this.add('add-column-volatile-default', this.lineOf(constraint.location, statement), `ADD COLUMN ${table}.${name} with a volatile DEFAULT rewrites the whole table under an ACCESS EXCLUSIVE lock.`);
      }
      if (added && constraint.contype === 'CONSTR_GENERATED' && this.existing(table)) {
        this.add('add-column-volatile-default', this.lineOf(constraint.location, statement), `ADD COLUMN ${table}.${name} GENERATED … STORED computes every row: a table rewrite under an ACCESS EXCLUSIVE lock.`, 'Add a plain column and fill it in batches (a trigger keeps new rows in step).');
      }
    }
    if (added && SERIAL.has(typeName) && this.existing(table)) {
      this.add('add-column-volatile-default', line, `ADD COLUMN ${table}.${name} ${typeName} fills every row from a sequence: a table rewrite under an ACCESS EXCLUSIVE lock.`, 'Add a plain bigint column, attach a sequence default, and backfill in batches.');
    }
    if (added && this.existing(table) && has('CONSTR_NOTNULL') && !has('CONSTR_DEFAULT') && !has('CONSTR_IDENTITY') && !has('CONSTR_GENERATED') && !SERIAL.has(typeName)) {
      this.add('add-column-required', line, `ADD COLUMN ${table}.${name} is NOT NULL without a DEFAULT: PostgreSQL refuses it once ${table} has rows.`);
    }
  }

  foreignKey(table: string, columns: string[], constraint: Node, statement: PgStatement, added: boolean): void {
    const parent = String((constraint.pktable as Node | undefined)?.relname ?? '?');
    const line = this.lineOf(constraint.location, statement);
    const label = `${table}(${columns.join(', ')}) → ${parent}`;
    if (constraint.fk_del_action === 'a' && !/\bON\s+DELETE\s+NO\s+ACTION\b/i.test(statement.text)) {
      this.add('foreign-key-without-on-delete', line, `Foreign key ${label} has no ON DELETE action: deleting a ${parent} row fails or leaves orphans.`);
    }
    if (added && this.existing(table) && !constraint.skip_validation) {
      this.add('constraint-without-not-valid', line, `Adding foreign key ${label} validates every row while holding a lock that blocks writes to ${table}.`);
    }
    this.foreignKeys.push({ table, columns, parent, line });
  }

  /** The file's first statement that locks a table in use, with no SET lock_timeout before it (one finding per file: one SET fixes them all). */
  private lockTimeout(statement: PgStatement, relation: string): void {
    if (this.lockTimeoutSettled) return;
    if (statement.type === 'VariableSetStmt') {
      if (statement.node.name === 'lock_timeout') this.lockTimeoutSettled = true;
      return;
    }
    const n = statement.node;
    const names = statement.type === 'DropStmt' ? ((n.objects ?? []) as Node[]).map((object) => strings(child(object, 'List')?.items).at(-1) ?? '') : [];
    const dropped =
      !n.concurrent &&
      ((n.removeType === 'OBJECT_TABLE' && names.some((t) => this.existing(t))) || (n.removeType === 'OBJECT_INDEX' && names.some((i) => this.model.indexCreatedIn.get(i) !== this.version)));
    const truncated = statement.type === 'TruncateStmt' && ((n.relations ?? []) as Node[]).some((r) => this.existing(String(child(r, 'RangeVar')?.relname ?? '')));
    const reindexed = statement.type === 'ReindexStmt' && !((n.params ?? []) as Node[]).some((p) => child(p, 'DefElem')?.defname === 'concurrently');
    const full = statement.type === 'VacuumStmt' && ((n.options ?? []) as Node[]).some((o) => child(o, 'DefElem')?.defname === 'full');
    const onExisting = relation !== '' && this.existing(relation) && (statement.type === 'AlterTableStmt' || statement.type === 'RenameStmt' || statement.type === 'ClusterStmt' || (statement.type === 'IndexStmt' && !n.concurrent));
    if (!(onExisting || dropped || truncated || reindexed || full)) return;
    this.lockTimeoutSettled = true;
    this.add('lock-timeout-missing', statement.line, `${statement.text.split(/\s+/).slice(0, 3).join(' ')} … locks a table in use with no lock_timeout set before it: behind a long transaction it waits, and every query on the table waits behind it.`);
  }

  statement(statement: PgStatement): void {
    this.longIdentifiers(statement);
    const n = statement.node;
    const relation = String((n.relation as Node | undefined)?.relname ?? '');
    this.lockTimeout(statement, relation);
    switch (statement.type) {
      case 'TransactionStmt':
        this.transaction(statement);
        break;
      case 'CreateStmt': {
        this.model.createdIn.set(relation, this.version);
        const elements = (n.tableElts ?? []) as Node[];
        // A table-level PRIMARY KEY (a, b) makes a and b ids (and NOT NULL) as much as a column-level one.
        const keyColumns = new Set(elements.flatMap((e) => (child(e, 'Constraint')?.contype === 'CONSTR_PRIMARY' ? strings(child(e, 'Constraint')!.keys) : [])));
        for (const element of elements) {
          const def = child(element, 'ColumnDef');
          if (def) this.column(relation, def, statement, false, keyColumns);
          const constraint = child(element, 'Constraint');
          if (constraint) this.tableConstraint(relation, constraint, statement, false);
        }
        break;
      }
      case 'IndexStmt': {
        const columns = ((n.indexParams ?? []) as Node[]).map((p) => String(child(p, 'IndexElem')?.name ?? '')).filter(Boolean);
        this.addIndex(relation, columns);
        if (typeof n.idxname === 'string') this.model.indexCreatedIn.set(n.idxname, this.version);
        if (!n.concurrent && this.existing(relation)) {
          this.add('create-index-not-concurrently', statement.line, `CREATE INDEX on ${relation}, which an earlier migration created, blocks every write to it until the index is built.`);
        }
        if (n.concurrent && this.openTransactions.length > 0) this.concurrentlyInTransaction(statement);
        break;
      }
      case 'DropStmt': {
        if (n.concurrent && this.openTransactions.length > 0) this.concurrentlyInTransaction(statement);
        const names = ((n.objects ?? []) as Node[]).map((object) => strings(child(object, 'List')?.items).at(-1) ?? '');
        if (n.removeType === 'OBJECT_INDEX' && !n.concurrent) {
          for (const index of names.filter((i) => this.model.indexCreatedIn.get(i) !== this.version)) {
            this.add('drop-index-not-concurrently', statement.line, `DROP INDEX ${index} blocks every read and write of its table until it is dropped.`);
          }
        }
        if (n.removeType !== 'OBJECT_TABLE') break;
        for (const table of names) {
          if (!mentions(this.doc, [table])) {
            this.add('data-loss-undocumented', statement.line, `DROP TABLE ${table} deletes data, and ${this.docFile} does not name it under "Data-loss risk".`, `State the risk for ${table} in ${this.docFile} (section "Data-loss risk").`);
          }
        }
        break;
      }
      case 'ReindexStmt': {
        const concurrently = ((n.params ?? []) as Node[]).some((p) => child(p, 'DefElem')?.defname === 'concurrently');
        if (concurrently && this.openTransactions.length > 0) this.concurrentlyInTransaction(statement);
        if (!concurrently) this.add('reindex-not-concurrently', statement.line, 'REINDEX without CONCURRENTLY blocks writes to the table (and reads that use the index) until it is done.');
        break;
      }
      case 'AlterTableStmt':
        for (const cmd of (n.cmds ?? []) as Node[]) this.alterTable(relation, child(cmd, 'AlterTableCmd') ?? {}, statement);
        break;
      case 'RenameStmt':
        if ((n.renameType === 'OBJECT_COLUMN' || n.renameType === 'OBJECT_TABLE') && this.existing(relation)) {
          const what = n.renameType === 'OBJECT_COLUMN' ? `column ${relation}.${String(n.subname)}` : `table ${relation}`;
          this.add('rename-in-use', statement.line, `Renaming ${what} to ${String(n.newname)} breaks the running app, which still uses the old name.`);
        }
        break;
      case 'CreateDomainStmt':
        if (((n.constraints ?? []) as Node[]).some((c) => child(c, 'Constraint')?.contype === 'CONSTR_CHECK')) {
          this.add('domain-check-constraint', statement.line, `CREATE DOMAIN ${strings(n.domainname).join('.')} has a CHECK: changing or adding one later scans every column of the domain under lock.`);
        }
        break;
      case 'AlterDomainStmt':
        if (n.subtype === 'C') this.add('domain-check-constraint', statement.line, `ALTER DOMAIN ${strings(n.typeName).join('.')} ADD CONSTRAINT scans every column that uses the domain, locking each table.`);
        break;
      case 'TruncateStmt':
        if (n.behavior === 'DROP_CASCADE') this.add('truncate-cascade', statement.line, 'TRUNCATE … CASCADE also empties every table that references these, and the tables that reference those.');
        break;
      case 'DropdbStmt':
        this.add('drop-database', statement.line, `DROP DATABASE ${String(n.dbname)} in a migration deletes everything in it, with no down.`);
        break;
      case 'VacuumStmt':
        if (((n.options ?? []) as Node[]).some((o) => child(o, 'DefElem')?.defname === 'full')) this.add('vacuum-full-or-cluster', statement.line, 'VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock: no reads or writes until it is done.');
        break;
      case 'UpdateStmt': {
        const targets = ((n.targetList ?? []) as Node[]).map((t) => String(child(t, 'ResTarget')?.name ?? ''));
        const twice = targets.find((t, i) => t && targets.indexOf(t) !== i);
        if (twice) this.add('duplicate-column-assignment', statement.line, `UPDATE sets ${twice} twice: PostgreSQL refuses the statement.`);
        break;
      }
      case 'ClusterStmt':
        this.add('vacuum-full-or-cluster', statement.line, 'CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock: no reads or writes until it is done.');
        break;
    }
  }

  private transaction(statement: PgStatement): void {
    const kind = String(statement.node.kind);
    if (kind === 'TRANS_STMT_BEGIN' || kind === 'TRANS_STMT_START') {
      if (this.openTransactions.length > 0) this.add('transaction-nesting', statement.line, `BEGIN inside the transaction opened at line ${this.openTransactions[0]}: PostgreSQL ignores it, and the first COMMIT ends both.`);
      this.openTransactions.push(statement.line);
    } else if (kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_ROLLBACK') {
      this.openTransactions.length = 0;
    }
  }

  private concurrentlyInTransaction(statement: PgStatement): void {
    this.add('concurrently-in-transaction', statement.line, `${statement.text.split(/\s+/).slice(0, 3).join(' ')} … sits between the file's own BEGIN and COMMIT: PostgreSQL refuses CONCURRENTLY inside a transaction block.`);
  }

  private tableConstraint(table: string, constraint: Node, statement: PgStatement, added: boolean): void {
    const keys = strings(constraint.keys);
    switch (constraint.contype) {
      case 'CONSTR_PRIMARY':
      case 'CONSTR_UNIQUE':
        this.addIndex(table, keys);
        if (constraint.contype === 'CONSTR_PRIMARY') for (const key of keys) this.model.notNull.add(`${table}.${key}`);
        if (added && this.existing(table) && !constraint.indexname) {
          const kind = constraint.contype === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE';
          this.add('unique-without-using-index', this.lineOf(constraint.location, statement), `Adding ${kind} (${keys.join(', ')}) on ${table} builds its index while blocking every write to the table.`, `CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT … ${kind} USING INDEX that index.`);
        }
        break;
      case 'CONSTR_FOREIGN':
        this.foreignKey(table, strings(constraint.fk_attrs), constraint, statement, added);
        break;
      case 'CONSTR_CHECK': {
        const column = notNullColumn(constraint.raw_expr);
        if (column) {
          if (constraint.skip_validation) this.model.pendingChecks.set(String(constraint.conname ?? ''), `${table}.${column}`);
          else this.model.notNullChecks.add(`${table}.${column}`);
        }
        if (added && this.existing(table) && !constraint.skip_validation) {
          this.add('constraint-without-not-valid', this.lineOf(constraint.location, statement), `Adding CHECK constraint ${String(constraint.conname ?? '')} on ${table} scans every row while blocking writes to it.`);
        }
        break;
      }
    }
  }

  private alterTable(table: string, cmd: Node, statement: PgStatement): void {
    const def = cmd.def as Node | undefined;
    const column = `${table}.${String(cmd.name)}`;
    switch (cmd.subtype) {
      case 'AT_AddColumn': {
        const added = child(def, 'ColumnDef');
        if (added) this.column(table, added, statement, true);
        break;
      }
      case 'AT_AddConstraint': {
        const constraint = child(def, 'Constraint');
        if (constraint) this.tableConstraint(table, constraint, statement, true);
        break;
      }
      case 'AT_ValidateConstraint': {
        const pending = this.model.pendingChecks.get(String(cmd.name));
        if (pending) this.model.notNullChecks.add(pending);
        break;
      }
      case 'AT_AlterColumnType': {
        const type = strings((child(def, 'ColumnDef')?.typeName as Node | undefined)?.names).at(-1) ?? '';
        if (type === 'timestamp') this.add('timestamp-without-time-zone', statement.line, `${column} becomes timestamp without time zone.`, `Use timestamptz for ${column}.`);
        if (this.existing(table)) this.add('alter-column-type', statement.line, `ALTER COLUMN ${column} TYPE ${type} rewrites the table (and its indexes) under an ACCESS EXCLUSIVE lock.`);
        break;
      }
      case 'AT_SetNotNull':
        // Already NOT NULL: PostgreSQL does nothing, so there is nothing to scan.
        if (this.existing(table) && !this.model.notNull.has(column) && !this.model.notNullChecks.has(column)) {
          this.add('set-not-null-without-check', statement.line, `SET NOT NULL on ${column} scans the whole table under an ACCESS EXCLUSIVE lock.`, `First ADD CONSTRAINT … CHECK (${String(cmd.name)} IS NOT NULL) NOT VALID and VALIDATE it; then SET NOT NULL skips the scan.`);
        }
        this.model.notNull.add(column);
        break;
      case 'AT_DropNotNull':
        if (this.existing(table)) this.add('drop-not-null', statement.line, `DROP NOT NULL on ${column}: code that reads it and assumes a value breaks on the first NULL.`);
        this.model.notNull.delete(column);
        this.model.notNullChecks.delete(column);
        break;
      case 'AT_DetachPartition':
        if (!child(def, 'PartitionCmd')?.concurrent) this.add('detach-partition-not-concurrently', statement.line, `DETACH PARTITION on ${table} takes an ACCESS EXCLUSIVE lock on the whole partitioned table.`);
        break;
      case 'AT_DropColumn':
        if (!mentions(this.doc, [String(cmd.name), column])) {
          this.add('data-loss-undocumented', statement.line, `DROP COLUMN ${column} deletes data, and ${this.docFile} does not name it under "Data-loss risk".`, `State the risk for ${column} in ${this.docFile} (section "Data-loss risk").`);
        }
        break;
    }
  }

  /** After the whole file: every foreign key it added needs an index that leads with its columns; a file that leaves its BEGIN open. */
  finish(): void {
    for (const fk of this.foreignKeys) {
      const leads = (this.model.indexes.get(fk.table) ?? []).some((cols) => fk.columns.every((c, i) => cols[i] === c));
      if (leads) continue;
      // A table this file creates is empty and not yet in use: a plain CREATE INDEX keeps the file in its transaction.
      const how = this.existing(fk.table) ? 'CREATE INDEX CONCURRENTLY' : 'CREATE INDEX';
      this.add('foreign-key-without-index', fk.line, `Foreign key ${fk.table}(${fk.columns.join(', ')}) → ${fk.parent} has no index that starts with ${fk.columns.join(', ')}: every delete of a ${fk.parent} row scans ${fk.table}.`, `${how} ix_${fk.table}_${fk.columns.join('_')} ON ${fk.table} (${fk.columns.join(', ')});`);
    }
    if (this.openTransactions.length > 0) this.add('uncommitted-transaction', this.openTransactions[0]!, `The BEGIN at line ${this.openTransactions[0]} is never committed in this file.`);
  }
}

function volatile(expr: unknown): boolean {
  if (!expr || typeof expr !== 'object') return false;
  const call = child(expr, 'FuncCall');
  if (call && VOLATILE.has(strings(call.funcname).at(-1) ?? '')) return true;
  return Object.values(expr as Node).some((v) => (Array.isArray(v) ? v.some(volatile) : volatile(v)));
}

function notNullColumn(expr: unknown): string | undefined {
  const test = child(expr, 'NullTest');
  if (!test || test.nulltesttype !== 'IS_NOT_NULL') return undefined;
  return strings(child(test.arg, 'ColumnRef')?.fields).at(-1);
}

/** The parser's rules over the whole chain, in version order (findings only for `only`, when given), as the project's settings and ignore comments say. */
export async function lintPgRules(set: MigrationSet<PgContext>, only?: ReadonlySet<number>): Promise<LintFinding[]> {
  return (await lintPostgres(set, { only })).findings;
}

const emptyModel = (): Model => ({ createdIn: new Map(), indexes: new Map(), indexCreatedIn: new Map(), notNull: new Set(), notNullChecks: new Set(), pendingChecks: new Map(), schema: new SchemaModel() });

/** Every table name the statements mention (what they write, read, reference), for the catalog read `lintPgPending` starts from. */
export function namedRelations(statements: readonly PgStatement[]): string[] {
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) for (const item of node) visit(item);
    else if (node && typeof node === 'object') {
      const relname = (node as { relname?: unknown }).relname;
      if (typeof relname === 'string') names.add(relname);
      for (const value of Object.values(node)) if (value && typeof value === 'object') visit(value);
    }
  };
  for (const statement of statements) visit(statement.node);
  return [...names];
}

/** The pending migrations' up files (parsed in one call): the tables they name, for readLiveTables. */
export async function pendingRelations(set: MigrationSet<PgContext>, only: ReadonlySet<number>): Promise<string[]> {
  const pending = set.migrations.filter((m) => only.has(m.version));
  await preparseMigrations(pending, ['up']);
  return pending.flatMap((m) => {
    if (m.kind !== 'sql' || m.up?.sql === undefined) return [];
    try {
      return namedRelations(splitPgStatements(m.up.sql));
    } catch (error) {
      if (error instanceof PgSyntaxError) return [];
      throw error;
    }
  });
}

/**
 * `up`'s lint: only the migrations it is about to run, on a model that starts from what the
 * database has (`live`: the tables they name, read from the catalog), not from every applied
 * migration's file read, parsed and judged again. What those rules need of an existing table is
 * its NOT NULL columns, its indexes and its NOT NULL checks; a table the pending files do not
 * name is not asked about.
 */
export async function lintPgPending(set: MigrationSet<PgContext>, only: ReadonlySet<number>, live: readonly LiveTable[]): Promise<LintFinding[]> {
  await loadParser();
  const model = emptyModel();
  // The model follows no schema it did not see built: it vouches for nothing, which `up` does not ask of it.
  model.schema.lose();
  for (const table of live) {
    for (const column of table.notNull) model.notNull.add(`${table.table}.${column}`);
    for (const columns of table.indexes) if (columns.length > 0) model.indexes.set(table.table, [...(model.indexes.get(table.table) ?? []), columns]);
    for (const check of table.notNullChecks) {
      if (check.valid) model.notNullChecks.add(`${table.table}.${check.column}`);
      else model.pendingChecks.set(check.name, `${table.table}.${check.column}`);
    }
  }
  const findings: LintFinding[] = unrecognizedFindings(set);
  for (const migration of set.migrations.filter((m) => only.has(m.version)).sort((a, b) => a.version - b.version)) findings.push(...lintOne(set.source, migration, model).findings);
  return judgeFindings(findings, set, PG_LINT_REGISTRY, LINT_RULE_IDS).findings;
}

export interface PgLintOptions {
  /** Judge only these versions (the chain before them is still read, for the schema). */
  only?: ReadonlySet<number> | undefined;
  /** Replay the chain on a scratch database on this server: `sql-error` for what PostgreSQL rejects. */
  server?: PgTarget | undefined;
  /** Without a server: replay on PGlite (PostgreSQL as WASM, in this process: seconds and hundreds of MB). */
  embedded?: boolean | undefined;
}

/** The parser's rules, and the replay when asked, judged by the project's settings and ignore comments. */
export async function lintPostgres(set: MigrationSet<PgContext>, options: PgLintOptions = {}): Promise<JudgedFindings & { replay: 'not-needed' | 'done' | 'no-server' }> {
  const { findings: raw, replayThrough } = await rawRuleFindings(set, options.only);
  // Replay only when a judged migration has a statement the model cannot vouch for, and only up to the last such one.
  const replay = replayThrough === undefined ? undefined : options.server ? replayOnScratch(set, options.server, options.only, replayThrough) : options.embedded ? replayEmbedded(set, options.only, replayThrough) : undefined;
  if (replay) raw.push(...(await replay));
  return { ...judgeFindings(raw, set, PG_LINT_REGISTRY, LINT_RULE_IDS), replay: replay ? 'done' : replayThrough === undefined ? 'not-needed' : 'no-server' };
}

async function rawRuleFindings(set: MigrationSet<PgContext>, only?: ReadonlySet<number>): Promise<{ findings: LintFinding[]; replayThrough?: number }> {
  await preparseMigrations(set.migrations);
  const model = emptyModel();
  const findings: LintFinding[] = unrecognizedFindings(set);
  let replayThrough: number | undefined;
  for (const migration of [...set.migrations].sort((a, b) => a.version - b.version)) {
    const { findings: own, needsReplay } = lintOne(set.source, migration, model);
    if (only && !only.has(migration.version)) continue;
    findings.push(...own);
    if (needsReplay) replayThrough = migration.version;
  }
  return { findings, ...(replayThrough !== undefined ? { replayThrough } : {}) };
}

function lintOne(dir: string, migration: Up, model: Model): { findings: LintFinding[]; needsReplay: boolean } {
  const file = migration.files[0] ?? migrationLabel(migration);
  const findings: LintFinding[] = [];
  if (!migration.down) {
    findings.push(findingOf(PG_RULES, 'missing-down', file, 1, `${migrationLabel(migration)} cannot be reverted: it has no down migration.`, migration.kind === 'sql' ? `Add ${migrationLabel(migration)}.down.sql that undoes the up file.` : 'Export a down(ctx) function that undoes up().'));
  }
  if (migration.kind !== 'builtin') findings.push(...documentFindings(dir, migration, file));
  const sql = migration.up?.sql;
  if (sql === undefined || migration.kind !== 'sql') {
    // A code migration's effect on the schema is unknown to the model (and lint runs no user code).
    model.schema.lose();
    return { findings, needsReplay: false };
  }
  let statements: PgStatement[];
  try {
    statements = splitPgStatements(sql);
  } catch (error) {
    if (!(error instanceof PgSyntaxError)) throw error;
    findings.push(findingOf(PG_RULES, 'syntax-error', file, error.line, `PostgreSQL's parser rejects this file: ${error.message}.`));
    model.schema.lose();
    return { findings, needsReplay: false };
  }
  const doc = () => (migration.doc ? readDataLossSection(path.join(dir, migration.doc)) : '');
  const linter = new FileLinter(file, sql, migration.version, model, doc, docName(migration));
  let needsReplay = false;
  for (const statement of statements) {
    if (!model.schema.accept(statement)) needsReplay = true;
    linter.statement(statement);
  }
  linter.finish();
  return { findings: [...findings, ...linter.findings.sort((a, b) => a.line - b.line)], needsReplay };
}

/** Where the replay runs: one session, statements one at a time. */
interface Scratch {
  query(sql: string): Promise<unknown>;
}

/**
 * Replay every up migration in order on a scratch database created on the server (and dropped
 * afterwards), the way `up` runs them: findings for the statements PostgreSQL rejects.
 */
export async function replayOnScratch(set: MigrationSet<PgContext>, server: PgTarget, only?: ReadonlySet<number>, through = Number.MAX_SAFE_INTEGER): Promise<LintFinding[]> {
  await loadParser();
  const name = `dbshift_lint_${crypto.randomBytes(6).toString('hex')}`;
  // pg loads only when there is a server to talk to.
  const { connectClient } = await import('./connection.js');
  const admin = await connectClient(server.clientUrl, server.display);
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    const url = new URL(server.clientUrl);
    url.pathname = `/${name}`;
    const scratch = await connectClient(url.toString(), server.display);
    try {
      return await replay(set, scratch, only, through);
    } finally {
      await scratch.end().catch(() => undefined);
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}

/** The same replay without a server: PGlite, PostgreSQL compiled to WASM, in this process (a few seconds to start). */
export async function replayEmbedded(set: MigrationSet<PgContext>, only?: ReadonlySet<number>, through = Number.MAX_SAFE_INTEGER): Promise<LintFinding[]> {
  await loadParser();
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create();
  try {
    // PGlite's query() takes one statement; exec() takes a batch, as the server's simple protocol does.
    return await replay(set, { query: (sql) => db.exec(sql) }, only, through);
  } finally {
    await db.close();
  }
}

/** A migration's statements as the replay runs them: its own BEGIN/COMMIT (dbshift's transaction replaces them) and statements that reach beyond the scratch database left out. */
interface Replayable {
  migration: Up;
  file: string;
  statements: PgStatement[];
  /** Its rejection counts: no code migration ran before it (lint runs no user code, so after one the scratch schema is no longer the real one). */
  counts: boolean;
}

function replayable(migration: Up, counts: boolean): Replayable | undefined {
  const body = migration.up;
  if (body?.sql === undefined) return undefined;
  let statements: PgStatement[];
  try {
    statements = splitPgStatements(body.sql);
  } catch {
    return undefined; // the rules already report the syntax error
  }
  statements = statements.filter(
    (s) => !(body.transactional && isOwnTransactionControl(s)) && !OUTSIDE_SCRATCH.has(s.type) && !(s.type === 'CopyStmt' && (s.node.filename !== undefined || s.node.is_program)),
  );
  return { migration, file: migration.files[0] ?? migrationLabel(migration), statements, counts };
}

/**
 * The chain in as few round trips as it allows: consecutive transactional migrations go to the
 * server as one multi-statement query (one implicit transaction). A batch that fails was rolled
 * back as a whole: its halves are tried again the same way, down to the one migration that
 * fails, which is replayed a statement at a time to name the line (a statement-at-a-time replay
 * of the whole batch cost a round trip per statement of every file).
 */
async function replay(set: MigrationSet<PgContext>, scratch: Scratch, only: ReadonlySet<number> | undefined, through: number): Promise<LintFinding[]> {
  const findings: LintFinding[] = [];
  let batch: Replayable[] = [];
  const one = async (item: Replayable) => {
    const found = await replayOne(scratch, item);
    if (found && item.counts && (!only || only.has(item.migration.version))) findings.push(found);
  };
  const replayBatch = async (items: Replayable[]): Promise<void> => {
    // "\n;\n": a statement's text may end in a line comment.
    const text = items.flatMap((i) => i.statements.map((s) => s.text)).join('\n;\n');
    if (text === '') return;
    try {
      await scratch.query(text);
      return;
    } catch {
      // Rolled back as a whole: find the migration (and its statement) below.
    }
    if (items.length === 1) return one(items[0]!);
    const half = Math.ceil(items.length / 2);
    await replayBatch(items.slice(0, half));
    await replayBatch(items.slice(half));
  };
  const flush = async () => {
    const items = batch;
    batch = [];
    if (items.length > 0) await replayBatch(items);
  };
  let counts = true;
  for (const migration of [...set.migrations].sort((a, b) => a.version - b.version)) {
    if (migration.version > through) break;
    if (migration.kind !== 'sql') {
      counts = false;
      continue;
    }
    const item = replayable(migration, counts);
    if (!item) continue;
    if (migration.up!.transactional) {
      batch.push(item);
      continue;
    }
    await flush();
    await one(item);
  }
  await flush();
  return findings;
}

async function replayOne(client: Scratch, { migration, file, statements }: Replayable): Promise<LintFinding | undefined> {
  const transactional = migration.up!.transactional;
  if (transactional) await client.query('BEGIN');
  for (const statement of statements) {
    try {
      await client.query(statement.text);
    } catch (error) {
      // Also a file's own BEGIN … COMMIT (a no-transaction file): left open and aborted, it
      // would fail every later file with "current transaction is aborted".
      await client.query('ROLLBACK').catch(() => undefined);
      return findingOf(PG_RULES, 'sql-error', file, statement.line, `PostgreSQL rejects this statement on the schema the earlier migrations build: ${(error as Error).message}.`);
    }
  }
  if (transactional) await client.query('COMMIT');
  return undefined;
}
