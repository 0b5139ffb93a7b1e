import { newForeignKeyViolations, type ForeignKeyViolation } from '../../../sqlite/checks.js';
import { countRows, quoteIdent } from '../../../sqlite/introspect.js';
import type { Db } from '../../../sqlite/open.js';
import type { RowChanges, TableChange } from '../../driver.js';
import { identifier, IDENT } from '../../sql-text.js';
import { DBMATE_DIRTY_TABLE, HISTORY_TABLE, VERSION_TABLE } from '../../state.js';

// The row-loss backstop on SQLite, at the cost of what a migration writes (docs/safety.md).
// Migrations run with foreign keys off, so rows leave a table only through a statement that
// writes its b-tree, and SQLite says which b-trees a statement writes before it runs: EXPLAIN
// lists OpenWrite (p2: the root page), Clear (DELETE without WHERE) and Destroy (DROP), and
// the sub-programs of the triggers and foreign-key actions it may fire, after its own opcodes
// (sqlite.org/opcode.html). Every statement a migration runs passes through here first
// (connection.ts); a table is counted once, just before its first write, and again at the end.
//
// Tables are named SQLite's way, case-insensitively. A table is followed through the
// migration by what happened to its b-tree, statement by statement: a statement that moves a
// name from one root page to another without a Destroy renamed it; a Destroy dropped it, and a
// table that later takes the dropped table's name (a rebuild, a drop + create) is compared
// with it. Root pages alone cannot tell these apart: SQLite reuses a dropped table's page.

const key = (name: string) => name.toLowerCase();
const ALTER_TABLE = new RegExp(String.raw`^\s*ALTER\s+TABLE\s+(?:main\.)?(${IDENT})`, 'i');

interface Op {
  opcode: string;
  p1: number;
  p2: number;
  p3: number;
  p5: number;
}

/** What one statement's program writes in the main database: root pages of the b-trees it opens for writing, clears or destroys. */
interface Program {
  roots: Set<number>;
  /** Root pages it destroys (DROP TABLE / DROP INDEX). */
  destroyed: Set<number>;
  /** It writes sqlite_schema (root page 1): names may move. */
  schema: boolean;
}

/** The same, in tables: what the root pages were when it was explained. */
interface Writes {
  tables: string[];
  destroyed: Set<string>;
  schema: boolean;
}

// OpenWrite's p5 flag: p2 is a register holding the root page of a b-tree the statement creates (CREATE TABLE … AS).
const OPFLAG_P2ISREG = 0x10;
const MAIN = 0;

function programOf(ops: Op[]): Program {
  const program: Program = { roots: new Set(), destroyed: new Set(), schema: false };
  for (const op of ops) {
    if (op.opcode === 'OpenWrite' && op.p3 === MAIN && !(op.p5 & OPFLAG_P2ISREG)) {
      if (op.p2 === 1) program.schema = true;
      else program.roots.add(op.p2);
    } else if (op.opcode === 'Clear' && op.p2 === MAIN) program.roots.add(op.p1);
    else if (op.opcode === 'Destroy' && op.p3 === MAIN) {
      program.roots.add(op.p1);
      program.destroyed.add(op.p1);
    }
  }
  return program;
}

interface SchemaRow {
  type: string;
  name: string;
  tbl_name: string;
  rootpage: number;
}

/** One table as it was when the migration began, followed to where it is now. */
interface Followed {
  /** Its name when the migration began. */
  origin: string;
  /** Its name now; undefined once dropped. */
  current: string | undefined;
  /** The name it had when it was dropped: a table that holds that name at the end replaces it. */
  droppedAs?: string;
  /** Rows just before the migration first wrote it; undefined: never written. */
  before?: number;
}

export interface StatementWatch {
  /** Before one statement runs; the returned function (if any) runs after it. */
  beforeStatement(sql: string): (() => void) | undefined;
  /** Before dbshift's own rebuildTable replaces `table` with a new b-tree under the same name. */
  beforeRebuild(table: string): () => void;
}

/**
 * The schema as last read on a connection, by schema_version: a connection handed from one
 * migration to the next (connection.ts) reads it again only after a schema change.
 */
const schemaRead = new WeakMap<Db, { version: number; rows: SchemaRow[] }>();

export class SqliteRowWatch implements StatementWatch {
  /** Every table of the main database when the migration began, by the key of its current name. */
  private readonly byCurrent = new Map<string, Followed>();
  private readonly followed: Followed[] = [];
  /** Programs already explained, and the root pages' tables, until the schema changes (a new trigger changes what a statement writes). */
  private explained = new Map<string, Writes>();
  private tableOfRoot = new Map<number, string>();
  private explainedAt = -1;
  private readonly schemaVersion;
  /** Foreign-key violations that existed before the first write, of the tables in `fkScope` (followed tables, or names). */
  private readonly fkBefore: ForeignKeyViolation[] = [];
  private readonly fkScope = new Set<Followed | string>();

  /** dbshift's bookkeeping (the version table this run keeps, golang-migrate's default one, the history): never a user table. */
  private readonly bookkeeping: Set<string>;

  constructor(
    private readonly db: Db,
    versionTable: string = VERSION_TABLE,
  ) {
    this.bookkeeping = new Set([VERSION_TABLE, HISTORY_TABLE, DBMATE_DIRTY_TABLE, versionTable].map(key));
    this.schemaVersion = db.prepare('PRAGMA schema_version').pluck();
    for (const { name } of this.tables()) {
      const table: Followed = { origin: name, current: name };
      this.followed.push(table);
      this.byCurrent.set(key(name), table);
    }
  }

  /** sqlite_schema's tables and indexes, read again only when the schema changed (one read per DDL statement, not per question or per migration). */
  private schema(): SchemaRow[] {
    const version = this.schemaVersion.get() as number;
    const cached = schemaRead.get(this.db);
    if (cached?.version === version) return cached.rows;
    const rows = this.readSchema();
    schemaRead.set(this.db, { version, rows });
    return rows;
  }

  private readSchema(): SchemaRow[] {
    return this.db.prepare(`SELECT type, name, tbl_name, rootpage FROM main.sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`).all() as SchemaRow[];
  }

  /** The user tables (bookkeeping excluded) that hold rows in a b-tree: virtual tables (rootpage 0) have none to count. */
  private tables(): SchemaRow[] {
    return this.schema().filter((row) => row.type === 'table' && row.rootpage > 0 && !this.bookkeeping.has(key(row.name)));
  }

  private explain(sql: string): Writes | undefined {
    const version = this.schemaVersion.get() as number;
    if (version !== this.explainedAt) {
      this.explained = new Map();
      this.tableOfRoot = new Map(this.schema().map((row) => [row.rootpage, row.tbl_name]));
      this.explainedAt = version;
    }
    let writes = this.explained.get(sql);
    if (!writes) {
      let program: Program;
      try {
        program = programOf(this.db.prepare(`EXPLAIN ${sql}`).all() as Op[]);
      } catch {
        return undefined;
      }
      const named = (roots: Set<number>) => [...roots].map((root) => this.tableOfRoot.get(root)).filter((name): name is string => name !== undefined);
      writes = { tables: [...new Set(named(program.roots))], destroyed: new Set(named(program.destroyed).map(key)), schema: program.schema };
      this.explained.set(sql, writes);
    }
    return writes;
  }

  /**
   * Before one statement runs: count the tables it is about to write for the first time. If it
   * changes the schema, the returned function (call it after the statement) follows renames and drops.
   */
  beforeStatement(sql: string): (() => void) | undefined {
    const writes = this.explain(sql);
    if (!writes) {
      // SQLite cannot explain it, so it will refuse to run it too; should it run anyway, nothing it writes goes uncounted.
      for (const table of this.followed) if (table.current !== undefined) this.firstWrite(table.current);
      return undefined;
    }
    for (const name of writes.tables) this.firstWrite(name);
    if (!writes.schema && writes.destroyed.size === 0) return undefined;
    // ALTER TABLE … ADD COLUMN … REFERENCES with a default writes only the schema, yet every row then points somewhere.
    const altered = ALTER_TABLE.exec(sql);
    if (altered) this.watchOwnForeignKeys(identifier(altered[1]!));
    const schema = this.schema();
    return () => this.follow(schema, writes.destroyed);
  }

  beforeRebuild(table: string): () => void {
    this.firstWrite(table);
    const schema = this.schema();
    return () => this.follow(schema, new Set([key(table)]));
  }

  private firstWrite(name: string): void {
    const table = this.byCurrent.get(key(name));
    if (!table || table.before !== undefined) return;
    table.before = countRows(this.db, name);
    this.watchForeignKeys(table);
  }

  /** A write may leave the table's own references dangling, or, deleting, those of its children: their violations before, once. */
  private watchForeignKeys(table: Followed): void {
    const name = table.current!;
    const children = this.db
      // A foreign key is declared only by a REFERENCES clause in its table's CREATE statement
      // (ALTER TABLE … ADD COLUMN rewrites that statement): tables without one are not asked.
      .prepare(`SELECT m.name FROM main.sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table' AND instr(lower(m.sql), 'references') > 0 AND f."table" = ? COLLATE NOCASE`)
      .pluck()
      .all(name) as string[];
    for (const scope of [table, ...children.map((child) => this.byCurrent.get(key(child)) ?? child)]) {
      if (this.fkScope.has(scope)) continue;
      this.fkScope.add(scope);
      this.fkBefore.push(...this.violations(typeof scope === 'string' ? scope : scope.current!));
    }
  }

  private watchOwnForeignKeys(name: string): void {
    const scope = this.byCurrent.get(key(name)) ?? name;
    if (this.fkScope.has(scope)) return;
    this.fkScope.add(scope);
    this.fkBefore.push(...this.violations(name));
  }

  private violations(table: string): ForeignKeyViolation[] {
    if (!this.db.prepare(`SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE`).get(table)) return [];
    return (this.db.pragma(`main.foreign_key_check(${quoteIdent(table)})`) as ForeignKeyViolation[]).map(({ table: t, rowid, parent }) => ({ table: t, rowid, parent }));
  }

  /** After a statement that wrote the schema: a name that moved to another b-tree without a Destroy was renamed; a destroyed table was dropped. */
  private follow(before: SchemaRow[], destroyed: Set<string>): void {
    // Maps, not searches: this runs after every schema change, on a schema of any size.
    const tablesBefore = before.filter((row) => row.type === 'table');
    const namesBefore = new Set(tablesBefore.map((row) => key(row.name)));
    const after = this.schema().filter((row) => row.type === 'table');
    const rootAfter = new Map(after.map((r) => [key(r.name), r.rootpage]));
    const newNameOfRoot = new Map(after.filter((r) => !namesBefore.has(key(r.name))).map((r) => [r.rootpage, r.name]));
    const moves: Array<[Followed, string | undefined]> = [];
    for (const row of tablesBefore) {
      const table = this.byCurrent.get(key(row.name));
      if (!table) continue;
      if (destroyed.has(key(row.name))) {
        moves.push([table, undefined]);
        continue;
      }
      if (rootAfter.get(key(row.name)) === row.rootpage) continue;
      // The same b-tree under a name that is new: renamed. Gone without a Destroy (writable_schema): dropped.
      moves.push([table, newNameOfRoot.get(row.rootpage)]);
    }
    for (const [table] of moves) this.byCurrent.delete(key(table.current!));
    for (const [table, name] of moves) {
      if (name === undefined) table.droppedAs = table.current;
      table.current = name;
      if (name !== undefined) this.byCurrent.set(key(name), table);
    }
  }

  /**
   * The tables dropped in the migration whose name another table holds at the end (a rebuild, a
   * drop + create): the table that stands for each. A table not dropped stands for itself
   * (`current`), so only the dropped ones are looked at: the cost is what the migration dropped,
   * not the tables the database holds.
   */
  private replacements(): Map<Followed, string> {
    const result = new Map<Followed, string>();
    const dropped = this.followed.filter((t) => t.current === undefined && t.droppedAs !== undefined);
    if (dropped.length === 0) return result;
    const now = new Map(this.tables().map((row) => [key(row.name), row.name]));
    const taken = new Set(this.byCurrent.keys());
    for (const table of dropped) {
      const name = key(table.droppedAs!);
      if (taken.has(name) || !now.has(name)) continue;
      taken.add(name);
      result.set(table, now.get(name)!);
    }
    return result;
  }

  /** Tables the migration created (no table it began with stands for them): they hold only what it inserted. */
  private created(replacements: Map<Followed, string>): string[] {
    const replacing = new Set([...replacements.values()].map(key));
    return this.tables()
      .map((row) => row.name)
      .filter((name) => !this.byCurrent.has(key(name)) && !replacing.has(key(name)));
  }

  /** After the migration: every table whose count changed; those that lost rows not declared. */
  changes(deletesRows: readonly string[]): RowChanges {
    const declared = new Set(deletesRows.map(declaredKey));
    const replacements = this.replacements();
    const changed: TableChange[] = [];
    const lost: TableChange[] = [];
    for (const table of this.followed) {
      if (table.before === undefined) continue;
      const successor = table.current ?? replacements.get(table);
      const after = successor === undefined ? null : countRows(this.db, successor);
      const change: TableChange = { name: successor ?? table.origin, ...(successor !== undefined && key(successor) !== key(table.origin) ? { was: table.origin } : {}), before: table.before, after };
      if (change.before !== change.after) changed.push(change);
      const isDeclared = declared.has(key(table.origin)) || (successor !== undefined && declared.has(key(successor)));
      if (after !== null && after < table.before && !isDeclared) lost.push(change);
    }
    for (const name of this.created(replacements)) changed.push({ name, before: null, after: countRows(this.db, name) });
    return { changed, lost };
  }

  /** Foreign-key violations the migration added, among the tables it wrote, their children and the tables it created. */
  newForeignKeyViolations(): ForeignKeyViolation[] {
    const replacements = this.replacements();
    const names = [...this.fkScope].map((scope) => (typeof scope === 'string' ? scope : (scope.current ?? replacements.get(scope)))).filter((n): n is string => n !== undefined);
    const after = [...new Set([...names, ...this.created(replacements)])].flatMap((table) => this.violations(table));
    return newForeignKeyViolations(this.fkBefore, after);
  }
}

/** A declared table name, as SQLite compares it: quotes off, an optional `main.`, any case. */
export function declaredKey(name: string): string {
  const bare = name.trim().replace(/^(?:main|"main"|`main`|\[main\])\./i, '');
  return key(/^["`[]/.test(bare) ? bare.slice(1, -1).replace(/""/g, '"') : bare);
}
