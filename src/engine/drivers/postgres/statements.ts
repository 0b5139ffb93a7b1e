import { loadModule, parseSync } from 'libpg-query';
import { yieldToEventLoop } from '../../../yield.js';
import { NO_TRANSACTION_DIRECTIVE } from '../../discover.js';

// PostgreSQL's own parser (libpg_query, as WASM) splits a migration into statements with their
// lines and tells which of them cannot run inside a transaction block, the way Flyway does.

/** A parse-tree node: one key (the node type) holding its fields. */
export type PgNode = Record<string, unknown>;

export interface PgStatement {
  /** The statement as written (comments before it excluded). */
  text: string;
  /** 1-based line of its first token. */
  line: number;
  /** The node type, e.g. CreateStmt, IndexStmt, TransactionStmt. */
  type: string;
  /** The node's fields. */
  node: Record<string, unknown>;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

let loaded: Promise<void> | undefined;
/** The parser is WASM: load it once before parsing. */
export function loadParser(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

/** Leading whitespace and comments: how many characters, and how many newlines in them. */
function leadingTrivia(text: string): { skip: number; lines: number } {
  let i = 0;
  const space = /\s*/y;
  for (;;) {
    space.lastIndex = i;
    space.exec(text);
    i = space.lastIndex;
    if (text.startsWith('--', i)) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end + 1;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
    } else break;
  }
  let lines = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < i; at = text.indexOf('\n', at + 1)) lines++;
  return { skip: i, lines };
}

export class PgSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** Newlines (byte 10, never part of a multi-byte UTF-8 character) in bytes[from, to). */
function newlinesIn(bytes: Buffer, from: number, to: number): number {
  let count = 0;
  for (let at = bytes.indexOf(10, from); at !== -1 && at < to; at = bytes.indexOf(10, at + 1)) count++;
  return count;
}

type RawStatement = { stmt: PgNode; stmt_location?: number; stmt_len?: number };

function parseTree(sql: string): RawStatement[] {
  try {
    return (parseSync(sql) as { stmts?: RawStatement[] }).stmts ?? [];
  } catch (error) {
    // The parser's cursor position counts characters, not bytes.
    const position = Math.min(sql.length, Math.max(0, (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition ?? 0));
    let line = 1;
    for (let at = sql.indexOf('\n'); at !== -1 && at < position; at = sql.indexOf('\n', at + 1)) line++;
    throw new PgSyntaxError((error as Error).message, line);
  }
}

/**
 * The statements from their parse, in one pass that carries the line count forward from
 * statement to statement (counting from the file's start for each one made a 20,000-statement
 * file take minutes). `raw` locations are byte offsets into `bytes`, each with its length.
 */
function* statementsOf(bytes: Buffer, raw: Iterable<{ stmt: PgNode; start: number; end: number }>): Generator<PgStatement> {
  let counted = 0;
  let linesBefore = 0;
  for (const { stmt, start, end } of raw) {
    const full = bytes.subarray(start, end).toString('utf8');
    const { skip, lines } = leadingTrivia(full);
    linesBefore += newlinesIn(bytes, counted, start);
    counted = Math.max(counted, start);
    const [type, node] = Object.entries(stmt)[0] as [string, Record<string, unknown>];
    yield { text: full.slice(skip).trim(), line: linesBefore + lines + 1, type, node };
  }
}

function located(raw: RawStatement[], offset: number, length: number): Array<{ stmt: PgNode; start: number; end: number }> {
  return raw.map((r) => {
    const start = offset + (r.stmt_location ?? 0);
    return { stmt: r.stmt, start, end: r.stmt_len ? start + r.stmt_len : offset + length };
  });
}

/** The statements of a file, or a PgSyntaxError naming the line PostgreSQL's parser stops at. Call loadParser() first. Linear in the file. */
export function splitPgStatements(sql: string): PgStatement[] {
  const bytes = Buffer.from(sql, 'utf8');
  return [...statementsOf(bytes, located(parseTree(sql), 0, bytes.length))];
}

/** Parsing a piece of about this many characters blocks the event loop for some 50 ms on a loaded machine. */
const CHUNK_CHARS = 64 * 1024;
const YIELD_EVERY = 2000;

/**
 * splitPgStatements for a file of any size without blocking the event loop for long (Ctrl-C
 * and SIGTERM are handled between pieces): parsed in pieces cut at top-level semicolons, with a
 * turn of the event loop between them. A piece the parser refuses (a cut inside a body such as
 * BEGIN ATOMIC … END, which the cheap scan cannot see) makes the whole file parse in one go,
 * so the result and any syntax error are exactly splitPgStatements'.
 */
export async function splitPgStatementsAsync(sql: string, signal?: AbortSignal): Promise<PgStatement[]> {
  if (sql.length <= CHUNK_CHARS) return splitPgStatements(sql);
  const bytes = Buffer.from(sql, 'utf8');
  const raw: Array<{ stmt: PgNode; start: number; end: number }> = [];
  let byteOffset = 0;
  try {
    for (const piece of topLevelPieces(sql, CHUNK_CHARS)) {
      const length = Buffer.byteLength(piece, 'utf8');
      raw.push(...located(parseTree(piece), byteOffset, length));
      byteOffset += length;
      await yieldToEventLoop();
      signal?.throwIfAborted();
    }
  } catch (error) {
    if (!(error instanceof PgSyntaxError)) throw error;
    return splitPgStatements(sql);
  }
  const statements: PgStatement[] = [];
  for (const statement of statementsOf(bytes, raw)) {
    statements.push(statement);
    if (statements.length % YIELD_EVERY === 0) await yieldToEventLoop();
  }
  return statements;
}

/**
 * The file cut into pieces of at least `size` characters, each ending just after a semicolon
 * outside quotes ('…', E'…', "…", $tag$…$tag$), comments (--, nested /* *\/) and parentheses.
 */
export function* topLevelPieces(sql: string, size: number): Generator<string> {
  let pieceStart = 0;
  let depth = 0;
  const skipTo = (from: number, close: string): number => {
    const at = sql.indexOf(close, from);
    return at === -1 ? sql.length : at + close.length;
  };
  for (let i = 0; i < sql.length; ) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') i = skipTo(i + 2, '\n');
    else if (c === '/' && next === '*') {
      let nesting = 1;
      i += 2;
      while (i < sql.length && nesting > 0) {
        if (sql.startsWith('/*', i)) (nesting++, (i += 2));
        else if (sql.startsWith('*/', i)) (nesting--, (i += 2));
        else i++;
      }
    } else if (c === "'" || c === '"') {
      const backslashes = c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? '');
      i++;
      while (i < sql.length) {
        if (backslashes && sql[i] === '\\') i += 2;
        else if (sql[i] === c && sql[i + 1] === c) i += 2;
        else if (sql[i] === c) break;
        else i++;
      }
      i++;
    } else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 64));
      i = tag ? skipTo(i + tag[0].length, tag[0]) : i + 1;
    } else if (c === '(') (depth++, i++);
    else if (c === ')') (depth = Math.max(0, depth - 1), i++);
    else if (c === ';' && depth === 0) {
      i++;
      if (i - pieceStart >= size) {
        yield sql.slice(pieceStart, i);
        pieceStart = i;
      }
    } else i++;
  }
  if (pieceStart < sql.length) yield sql.slice(pieceStart);
}

/** BEGIN / START TRANSACTION / COMMIT / END: the file's own transaction control, which dbshift's transaction replaces. */
export function isOwnTransactionControl(statement: PgStatement): boolean {
  if (statement.type !== 'TransactionStmt') return false;
  return ['TRANS_STMT_BEGIN', 'TRANS_STMT_START', 'TRANS_STMT_COMMIT'].includes(String(statement.node.kind));
}

/** ROLLBACK, PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED: they would end dbshift's transaction, so a transactional migration may not contain them. */
export function endsTransaction(statement: PgStatement): boolean {
  if (statement.type !== 'TransactionStmt') return false;
  return ['TRANS_STMT_ROLLBACK', 'TRANS_STMT_PREPARE', 'TRANS_STMT_COMMIT_PREPARED', 'TRANS_STMT_ROLLBACK_PREPARED'].includes(String(statement.node.kind));
}

export interface PgTransactionControl {
  /** The file is one BEGIN … COMMIT around everything: dbshift's transaction replaces the pair. */
  wrapped: boolean;
  /** Otherwise, the first statement that begins or ends a transaction. */
  first?: PgStatement;
}

/** The same decision sql-text.ts's transactionControl makes for SQLite, from PostgreSQL's parse tree. */
export function pgTransactionControl(statements: PgStatement[]): PgTransactionControl {
  const controls = statements.filter((s) => isOwnTransactionControl(s) || endsTransaction(s));
  if (controls.length === 0) return { wrapped: false };
  const first = statements[0]!;
  const last = statements.at(-1)!;
  const begins = (s: PgStatement) => ['TRANS_STMT_BEGIN', 'TRANS_STMT_START'].includes(String(s.node.kind));
  if (controls.length === 2 && controls[0] === first && controls[1] === last && begins(first) && last.node.kind === 'TRANS_STMT_COMMIT') return { wrapped: true };
  return { wrapped: false, first: controls[0]! };
}

function hasOption(node: Record<string, unknown>, name: string): boolean {
  const params = (node.params ?? node.options ?? []) as Array<{ DefElem?: { defname?: string } }>;
  return params.some((p) => p.DefElem?.defname === name);
}

function enumValues(statements: PgStatement[]): Map<PgStatement, string> {
  const added = new Map<PgStatement, string>();
  for (const s of statements) if (s.type === 'AlterEnumStmt' && typeof s.node.newVal === 'string' && !s.node.oldVal) added.set(s, s.node.newVal);
  return added;
}

/**
 * Why this migration cannot run in one transaction: statements PostgreSQL refuses inside a
 * transaction block, or the `-- dbshift:no-transaction` marker on the first line. Empty: it can.
 */
export function noTransactionReasons(sql: string, statements: PgStatement[], serverVersionNum: number): string[] {
  const reasons: string[] = [];
  if (NO_TRANSACTION_DIRECTIVE.test(sql.split('\n', 1)[0] ?? '')) reasons.push('the -- dbshift:no-transaction marker');
  const at = (s: PgStatement, what: string) => reasons.push(`${what} (line ${s.line})`);
  for (const s of statements) {
    const n = s.node;
    if (s.type === 'IndexStmt' && n.concurrent) at(s, 'CREATE INDEX CONCURRENTLY');
    else if (s.type === 'DropStmt' && n.concurrent) at(s, 'DROP INDEX CONCURRENTLY');
    else if (s.type === 'ReindexStmt' && hasOption(n, 'concurrently')) at(s, 'REINDEX CONCURRENTLY');
    else if (s.type === 'ReindexStmt' && ['REINDEX_OBJECT_SYSTEM', 'REINDEX_OBJECT_DATABASE'].includes(String(n.kind))) at(s, 'REINDEX SYSTEM/DATABASE');
    // ANALYZE alone is a VacuumStmt too (is_vacuumcmd unset), and runs in a transaction.
    else if (s.type === 'VacuumStmt' && n.is_vacuumcmd) at(s, 'VACUUM');
    else if (s.type === 'CreatedbStmt' || s.type === 'DropdbStmt') at(s, s.type === 'CreatedbStmt' ? 'CREATE DATABASE' : 'DROP DATABASE');
    else if (s.type === 'AlterSystemStmt') at(s, 'ALTER SYSTEM');
    else if (s.type === 'CreateTableSpaceStmt' || s.type === 'DropTableSpaceStmt') at(s, 'CREATE/DROP TABLESPACE');
  }
  // ALTER TYPE … ADD VALUE: refused in a transaction before PostgreSQL 12; since then allowed,
  // but the new value cannot be used before the transaction commits.
  for (const [s, value] of enumValues(statements)) {
    if (serverVersionNum < 120000) at(s, 'ALTER TYPE … ADD VALUE (before PostgreSQL 12)');
    else if (statements.some((later) => later.line > s.line && later.text.includes(`'${value.replace(/'/g, "''")}'`))) {
      at(s, `ALTER TYPE … ADD VALUE '${value}', used later in the same migration`);
    }
  }
  return reasons;
}
