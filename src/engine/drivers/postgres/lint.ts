import crypto from 'node:crypto';
import path from 'node:path';
import { migrationLabel } from '../../discover.js';
import type { MigrationDefinition, MigrationSet } from '../../types.js';
import { docName, documentFindings, mentions, readDataLossSection, unrecognizedFindings, type LintFinding } from '../../lint.js';
import { connectClient, type PgTarget } from './connection.js';
import type { PgContext } from './driver.js';
import { isOwnTransactionControl, loadParser, quoteIdent, splitPgStatements, PgSyntaxError, type PgStatement } from './statements.js';

// PostgreSQL's pitfalls, found with its own parser: seed 002's team conventions (foreign keys
// with ON DELETE and an index, timestamptz, data loss documented) and the lock hazards squawk
// and strong_migrations warn about, each with file, line and a one-line fix. Then, when a
// server is given, the chain is replayed on a scratch database there, so that statements
// PostgreSQL rejects are found before production finds them.

type Node = Record<string, unknown>;
type Up = MigrationDefinition<PgContext>;

const VOLATILE = new Set(['random', 'gen_random_uuid', 'uuid_generate_v1', 'uuid_generate_v1mc', 'uuid_generate_v4', 'clock_timestamp', 'timeofday', 'nextval', 'txid_current']);
const SERIAL = new Set(['serial', 'bigserial', 'smallserial', 'serial4', 'serial8', 'serial2']);

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
  /** "table.column" with a validated CHECK (column IS NOT NULL). */
  notNullChecks: Set<string>;
  /** Constraint name → "table.column" of a NOT VALID CHECK (column IS NOT NULL), until validated. */
  pendingChecks: Map<string, string>;
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

  constructor(
    readonly file: string,
    sql: string,
    readonly version: number,
    readonly model: Model,
    readonly doc: string,
    readonly docFile: string,
  ) {
    const bytes = Buffer.from(sql, 'utf8');
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) this.lineStarts.push(i + 1);
  }

  /** The line of a byte offset the parser reports, or the statement's line. */
  lineOf(location: unknown, statement: PgStatement): number {
    if (typeof location !== 'number' || location < 0) return statement.line;
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= location) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  add(line: number, rule: string, message: string, fix: string): void {
    this.findings.push({ file: this.file, line, rule, message, fix });
  }

  /** Created by an earlier migration (or before dbshift): a lock on it blocks the running app. */
  existing(table: string): boolean {
    return this.model.createdIn.get(table) !== this.version;
  }

  addIndex(table: string, columns: string[]): void {
    if (columns.length === 0) return;
    this.model.indexes.set(table, [...(this.model.indexes.get(table) ?? []), columns]);
  }

  column(table: string, def: Node, statement: PgStatement, added: boolean): void {
    const type = strings((def.typeName as Node | undefined)?.names);
    const typeName = type.at(-1) ?? '';
    const name = String(def.colname ?? '');
    if (typeName === 'timestamp') {
      this.add(this.lineOf(def.location, statement), 'timestamp-without-time-zone', `${table}.${name} is timestamp without time zone: its values lose the offset they were written with.`, `Use timestamptz (TIMESTAMP WITH TIME ZONE) for ${table}.${name}.`);
    }
    for (const c of (def.constraints ?? []) as Node[]) {
      const constraint = child(c, 'Constraint');
      if (!constraint) continue;
      if (constraint.contype === 'CONSTR_PRIMARY' || constraint.contype === 'CONSTR_UNIQUE') this.addIndex(table, [name]);
      if (constraint.contype === 'CONSTR_FOREIGN') this.foreignKey(table, [name], constraint, statement, added);
      if (added && constraint.contype === 'CONSTR_DEFAULT' && this.existing(table) && volatile(constraint.raw_expr)) {
        this.add(this.lineOf(constraint.location, statement), 'add-column-volatile-default', `ADD COLUMN ${table}.${name} with a volatile DEFAULT rewrites the whole table under an ACCESS EXCLUSIVE lock.`, 'Add the column without the default (or with a constant one), then fill it in batches.');
      }
    }
    if (added && SERIAL.has(typeName) && this.existing(table)) {
      this.add(this.lineOf(def.location, statement), 'add-column-volatile-default', `ADD COLUMN ${table}.${name} ${typeName} fills every row from a sequence: a table rewrite under an ACCESS EXCLUSIVE lock.`, 'Add a plain bigint column, attach a sequence default, and backfill in batches.');
    }
  }

  foreignKey(table: string, columns: string[], constraint: Node, statement: PgStatement, added: boolean): void {
    const parent = String((constraint.pktable as Node | undefined)?.relname ?? '?');
    const line = this.lineOf(constraint.location, statement);
    const label = `${table}(${columns.join(', ')}) → ${parent}`;
    if (constraint.fk_del_action === 'a' && !/\bON\s+DELETE\s+NO\s+ACTION\b/i.test(statement.text)) {
      this.add(line, 'foreign-key-without-on-delete', `Foreign key ${label} has no ON DELETE action: deleting a ${parent} row fails or leaves orphans.`, 'Add ON DELETE CASCADE (children go with the parent) or ON DELETE SET NULL (children stay).');
    }
    if (added && this.existing(table) && !constraint.skip_validation) {
      this.add(line, 'constraint-without-not-valid', `Adding foreign key ${label} validates every row while holding a lock that blocks writes to ${table}.`, 'Add it with NOT VALID, then ALTER TABLE … VALIDATE CONSTRAINT in a later migration.');
    }
    this.foreignKeys.push({ table, columns, parent, line });
  }

  statement(statement: PgStatement, inOwnTransaction: boolean): void {
    const n = statement.node;
    const relation = String((n.relation as Node | undefined)?.relname ?? '');
    switch (statement.type) {
      case 'CreateStmt': {
        this.model.createdIn.set(relation, this.version);
        for (const element of (n.tableElts ?? []) as Node[]) {
          const def = child(element, 'ColumnDef');
          if (def) this.column(relation, def, statement, false);
          const constraint = child(element, 'Constraint');
          if (constraint) this.tableConstraint(relation, constraint, statement, false);
        }
        break;
      }
      case 'IndexStmt': {
        const columns = ((n.indexParams ?? []) as Node[]).map((p) => String(child(p, 'IndexElem')?.name ?? '')).filter(Boolean);
        this.addIndex(relation, columns);
        if (!n.concurrent && this.existing(relation)) {
          this.add(statement.line, 'create-index-not-concurrently', `CREATE INDEX on ${relation}, which an earlier migration created, blocks every write to it until the index is built.`, 'Use CREATE INDEX CONCURRENTLY (dbshift then runs the migration outside a transaction).');
        }
        if (n.concurrent && inOwnTransaction) this.concurrentlyInTransaction(statement);
        break;
      }
      case 'DropStmt': {
        if (n.concurrent && inOwnTransaction) this.concurrentlyInTransaction(statement);
        if (n.removeType !== 'OBJECT_TABLE') break;
        for (const object of (n.objects ?? []) as Node[]) {
          const table = strings(child(object, 'List')?.items).at(-1) ?? '';
          if (!mentions(this.doc, [table])) {
            this.add(statement.line, 'data-loss-undocumented', `DROP TABLE ${table} deletes data, and ${this.docFile} does not name it under "Data-loss risk".`, `State the risk for ${table} in ${this.docFile} (section "Data-loss risk").`);
          }
        }
        break;
      }
      case 'ReindexStmt':
        if (inOwnTransaction && ((n.params ?? []) as Node[]).some((p) => child(p, 'DefElem')?.defname === 'concurrently')) this.concurrentlyInTransaction(statement);
        break;
      case 'AlterTableStmt':
        for (const cmd of (n.cmds ?? []) as Node[]) this.alterTable(relation, child(cmd, 'AlterTableCmd') ?? {}, statement);
        break;
      case 'RenameStmt':
        if ((n.renameType === 'OBJECT_COLUMN' || n.renameType === 'OBJECT_TABLE') && this.existing(relation)) {
          const what = n.renameType === 'OBJECT_COLUMN' ? `column ${relation}.${String(n.subname)}` : `table ${relation}`;
          this.add(statement.line, 'rename-in-use', `Renaming ${what} to ${String(n.newname)} breaks the running app, which still uses the old name.`, 'Add the new name beside the old one (new column kept in sync, or a view), deploy the app, and drop the old name in a later migration.');
        }
        break;
    }
  }

  private concurrentlyInTransaction(statement: PgStatement): void {
    this.add(statement.line, 'concurrently-in-transaction', `${statement.text.split(/\s+/).slice(0, 3).join(' ')} … sits between the file's own BEGIN and COMMIT: PostgreSQL refuses CONCURRENTLY inside a transaction block.`, 'Remove the BEGIN/COMMIT around it (dbshift runs a CONCURRENTLY migration outside a transaction by itself).');
  }

  private tableConstraint(table: string, constraint: Node, statement: PgStatement, added: boolean): void {
    const keys = strings(constraint.keys);
    switch (constraint.contype) {
      case 'CONSTR_PRIMARY':
      case 'CONSTR_UNIQUE':
        this.addIndex(table, keys);
        if (added && this.existing(table) && !constraint.indexname) {
          const kind = constraint.contype === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE';
          this.add(this.lineOf(constraint.location, statement), 'unique-without-using-index', `Adding ${kind} (${keys.join(', ')}) on ${table} builds its index while blocking every write to the table.`, `CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT … ${kind} USING INDEX that index.`);
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
          this.add(this.lineOf(constraint.location, statement), 'constraint-without-not-valid', `Adding CHECK constraint ${String(constraint.conname ?? '')} on ${table} scans every row while blocking writes to it.`, 'Add it with NOT VALID, then ALTER TABLE … VALIDATE CONSTRAINT in a later migration.');
        }
        break;
      }
    }
  }

  private alterTable(table: string, cmd: Node, statement: PgStatement): void {
    const def = cmd.def as Node | undefined;
    switch (cmd.subtype) {
      case 'AT_AddColumn': {
        const column = child(def, 'ColumnDef');
        if (column) this.column(table, column, statement, true);
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
        const column = child(def, 'ColumnDef');
        const type = strings((column?.typeName as Node | undefined)?.names).at(-1) ?? '';
        if (type === 'timestamp') this.add(statement.line, 'timestamp-without-time-zone', `${table}.${String(cmd.name)} becomes timestamp without time zone.`, `Use timestamptz for ${table}.${String(cmd.name)}.`);
        if (this.existing(table)) {
          this.add(statement.line, 'alter-column-type', `ALTER COLUMN ${table}.${String(cmd.name)} TYPE ${type} rewrites the table (and its indexes) under an ACCESS EXCLUSIVE lock.`, 'Add a new column of the new type, backfill it in batches, switch the app, then drop the old column.');
        }
        break;
      }
      case 'AT_SetNotNull':
        if (this.existing(table) && !this.model.notNullChecks.has(`${table}.${String(cmd.name)}`)) {
          this.add(statement.line, 'set-not-null-without-check', `SET NOT NULL on ${table}.${String(cmd.name)} scans the whole table under an ACCESS EXCLUSIVE lock.`, `First ADD CONSTRAINT … CHECK (${String(cmd.name)} IS NOT NULL) NOT VALID and VALIDATE it; then SET NOT NULL skips the scan.`);
        }
        break;
      case 'AT_DropColumn':
        if (!mentions(this.doc, [String(cmd.name), `${table}.${String(cmd.name)}`])) {
          this.add(statement.line, 'data-loss-undocumented', `DROP COLUMN ${table}.${String(cmd.name)} deletes data, and ${this.docFile} does not name it under "Data-loss risk".`, `State the risk for ${table}.${String(cmd.name)} in ${this.docFile} (section "Data-loss risk").`);
        }
        break;
    }
  }

  /** After the whole file: every foreign key it added needs an index that leads with its columns. */
  finish(): void {
    for (const fk of this.foreignKeys) {
      const leads = (this.model.indexes.get(fk.table) ?? []).some((cols) => fk.columns.every((c, i) => cols[i] === c));
      if (!leads) {
        this.add(fk.line, 'foreign-key-without-index', `Foreign key ${fk.table}(${fk.columns.join(', ')}) → ${fk.parent} has no index that starts with ${fk.columns.join(', ')}: every delete of a ${fk.parent} row scans ${fk.table}.`, `CREATE INDEX CONCURRENTLY ix_${fk.table}_${fk.columns.join('_')} ON ${fk.table} (${fk.columns.join(', ')});`);
      }
    }
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

/** The static rules over the whole chain, in version order (findings only for `only`, when given). */
export async function lintPgRules(set: MigrationSet<PgContext>, only?: ReadonlySet<number>): Promise<LintFinding[]> {
  await loadParser();
  const model: Model = { createdIn: new Map(), indexes: new Map(), notNullChecks: new Set(), pendingChecks: new Map() };
  const findings: LintFinding[] = unrecognizedFindings(set.ignored ?? []);
  for (const migration of [...set.migrations].sort((a, b) => a.version - b.version)) {
    const own = lintOne(set.source, migration, model);
    if (!only || only.has(migration.version)) findings.push(...own);
  }
  return findings;
}

function lintOne(dir: string, migration: Up, model: Model): LintFinding[] {
  const file = migration.files[0] ?? migrationLabel(migration);
  const findings: LintFinding[] = [];
  if (!migration.down) {
    findings.push({ file, line: 1, rule: 'missing-down', message: `${migrationLabel(migration)} cannot be reverted: it has no down migration.`, fix: migration.kind === 'sql' ? `Add ${migrationLabel(migration)}.down.sql that undoes the up file.` : 'Export a down(ctx) function that undoes up().' });
  }
  if (migration.kind !== 'builtin') findings.push(...documentFindings(dir, migration, file));
  const sql = migration.up?.sql;
  if (sql === undefined) return findings;
  let statements: PgStatement[];
  try {
    statements = splitPgStatements(sql);
  } catch (error) {
    if (!(error instanceof PgSyntaxError)) throw error;
    findings.push({ file, line: error.line, rule: 'syntax-error', message: `PostgreSQL's parser rejects this file: ${error.message}.`, fix: 'Correct the statement and run `dbshift lint` again.' });
    return findings;
  }
  const doc = migration.doc ? readDataLossSection(path.join(dir, migration.doc)) : '';
  const linter = new FileLinter(file, sql, migration.version, model, doc, docName(migration));
  let inOwnTransaction = false;
  for (const statement of statements) {
    if (isOwnTransactionControl(statement)) inOwnTransaction = ['TRANS_STMT_BEGIN', 'TRANS_STMT_START'].includes(String(statement.node.kind));
    linter.statement(statement, inOwnTransaction);
  }
  linter.finish();
  return [...findings, ...linter.findings.sort((a, b) => a.line - b.line)];
}

/** Where the replay runs: one session, statements one at a time. */
interface Scratch {
  query(sql: string): Promise<unknown>;
}

/**
 * Replay every up migration in order on a scratch database created on the server (and dropped
 * afterwards), the way `up` runs them: findings for the statements PostgreSQL rejects.
 */
export async function replayOnScratch(set: MigrationSet<PgContext>, server: PgTarget, only?: ReadonlySet<number>): Promise<LintFinding[]> {
  await loadParser();
  const name = `dbshift_lint_${crypto.randomBytes(6).toString('hex')}`;
  const admin = await connectClient(server.clientUrl, server.display);
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    const url = new URL(server.clientUrl);
    url.pathname = `/${name}`;
    const scratch = await connectClient(url.toString(), server.display);
    try {
      return await replay(set, scratch, only);
    } finally {
      await scratch.end().catch(() => undefined);
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}

/** The same replay without a server: PGlite, PostgreSQL compiled to WASM, in this process (a few seconds to start). */
export async function replayEmbedded(set: MigrationSet<PgContext>, only?: ReadonlySet<number>): Promise<LintFinding[]> {
  await loadParser();
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create();
  try {
    return await replay(set, db, only);
  } finally {
    await db.close();
  }
}

async function replay(set: MigrationSet<PgContext>, scratch: Scratch, only?: ReadonlySet<number>): Promise<LintFinding[]> {
  const findings: LintFinding[] = [];
  // Lint runs no user code: after a code migration the scratch schema is no longer the
  // real one, and the server's rejections stop counting (as in the SQLite lint).
  let schemaKnown = true;
  for (const migration of [...set.migrations].sort((a, b) => a.version - b.version)) {
    if (migration.kind !== 'sql') {
      schemaKnown = false;
      continue;
    }
    const found = await replayOne(scratch, migration);
    if (found && schemaKnown && (!only || only.has(migration.version))) findings.push(found);
  }
  return findings;
}

async function replayOne(client: Scratch, migration: Up): Promise<LintFinding | undefined> {
  const body = migration.up;
  if (!body) return undefined;
  const file = migration.files[0] ?? migrationLabel(migration);
  if (body.sql === undefined) return undefined;
  let statements: PgStatement[];
  try {
    statements = splitPgStatements(body.sql);
  } catch {
    return undefined; // the rules already report the syntax error
  }
  if (body.transactional) await client.query('BEGIN');
  for (const statement of statements) {
    if (body.transactional && isOwnTransactionControl(statement)) continue;
    try {
      await client.query(statement.text);
    } catch (error) {
      // Also a file's own BEGIN … COMMIT (a no-transaction file): left open and aborted, it
      // would fail every later file with "current transaction is aborted".
      await client.query('ROLLBACK').catch(() => undefined);
      return {
        file,
        line: statement.line,
        rule: 'sql-error',
        message: `PostgreSQL rejects this statement on the schema the earlier migrations build: ${(error as Error).message}.`,
        fix: 'Correct the statement (names, order of migrations) and run `dbshift lint` again.',
      };
    }
  }
  if (body.transactional) await client.query('COMMIT');
  return undefined;
}
