import v8 from 'node:v8';
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
let parseSync: (sql: string) => unknown = () => {
  throw new Error('PostgreSQL\'s parser is not loaded: await loadParser() first.');
};
/**
 * The parser is WASM: load it once before parsing. Its module is compiled by V8's baseline
 * compiler only (Liftoff): the optimizing tier otherwise compiles the parser in the background
 * as it loads, about 0.3 s of CPU that a lint or a split of a few seconds never earns back
 * (measured: lint of 512 files 1.07 -> 0.73 s; splitting 50,000 statements 1.75 -> 1.45 s). The
 * flag is V8's, process-wide, so it is set only while this module compiles: PGlite's
 * PostgreSQL, which runs for seconds, keeps the optimizing tier.
 */
export function loadParser(): Promise<void> {
  if (!loaded) {
    // libpg-query starts compiling its WASM when it is imported, not when loadModule() is
    // called: the flag must be set before the import, or the compile races it (runs were then
    // fast or 0.3 s slower at random, the "with a server" difference docs/lint.md described).
    v8.setFlagsFromString('--liftoff-only');
    loaded = import('libpg-query')
      .then(async (parser) => {
        await parser.loadModule();
        parseSync = parser.parseSync;
      })
      .finally(() => v8.setFlagsFromString('--no-liftoff-only'));
  }
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

/**
 * Files parsed in this process, by their text: loading a directory, linting it and replaying it
 * each need the statements, and the parse is most of lint's time. Callers never change them.
 */
const parsed = new Map<string, PgStatement[]>();
const PARSED_KEPT = 4096;

/**
 * The statements of a file, or a PgSyntaxError naming the line PostgreSQL's parser stops at. Call
 * loadParser() first. Linear in the file: one parse, then one pass that carries the line count
 * forward from statement to statement (counting from the file's start for each one made a
 * 20,000-statement file take minutes).
 */
export function splitPgStatements(sql: string): PgStatement[] {
  const known = parsed.get(sql);
  if (known) return known;
  const statements = parseStatements(sql);
  if (parsed.size >= PARSED_KEPT) parsed.clear();
  parsed.set(sql, statements);
  return statements;
}

/**
 * Parse many files in one call to the parser (most of a call's cost is crossing into WASM and
 * back), filling the cache splitPgStatements reads. Any doubt, and the files are left to be
 * parsed one by one: a parse error anywhere, or a statement that crosses from one file into the
 * next (an unterminated string or comment in the first could otherwise join them).
 */
export function preparsePgFiles(sqls: readonly string[]): void {
  // Empty files are left to splitPgStatements, which says what the parser says of them.
  // A large file is parsed in pieces by splitPgStatementsAsync instead: one call over it would block the event loop.
  const files = [...new Set(sqls)].filter((sql) => !parsed.has(sql) && sql.trim() !== '' && sql.length <= CHUNK_CHARS);
  if (files.length < 2) return;
  // Range k of the joined text is file k; the separator's "\n;" ends any statement the file left open.
  const separator = '\n;\n';
  const ranges: Array<{ sql: string; bytes: Buffer; start: number; end: number; raws: RawStatement[] }> = [];
  let offset = 0;
  for (const sql of files) {
    const bytes = Buffer.from(sql, 'utf8');
    ranges.push({ sql, bytes, start: offset, end: offset + bytes.length, raws: [] });
    offset += bytes.length + separator.length;
  }
  let tree: { stmts?: RawStatement[] };
  try {
    tree = parseSync(files.join(separator)) as typeof tree;
  } catch {
    return;
  }
  let r = 0;
  for (const raw of tree.stmts ?? []) {
    const start = raw.stmt_location ?? 0;
    while (r + 1 < ranges.length && start >= ranges[r]!.end + 2) r++;
    const range = ranges[r]!;
    const end = raw.stmt_len ? start + raw.stmt_len : offset - separator.length;
    // A file's last statement without its own ";" ends at the separator's: its "\n" is the one
    // byte past the file it may take. Further, and the files ran together (an unterminated string or comment).
    if (end > range.end + 1) return;
    // A file's first statement starts after the previous separator's ";", at its "\n".
    const from = Math.max(start, range.start);
    range.raws.push({ stmt: raw.stmt, stmt_location: from - range.start, stmt_len: Math.min(end, range.end) - from, shift: -range.start });
  }
  for (const range of ranges) {
    if (parsed.size >= PARSED_KEPT) parsed.clear();
    parsed.set(range.sql, toStatements(range.bytes, range.raws));
  }
}

function parseStatements(sql: string): PgStatement[] {
  return toStatements(Buffer.from(sql, 'utf8'), parseTree(sql));
}

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

/** Parsing a piece of about this many characters blocks the event loop for some 50 ms on a loaded machine. */
const CHUNK_CHARS = 64 * 1024;

/**
 * splitPgStatements for a file of any size without blocking the event loop for long (Ctrl-C
 * and SIGTERM are handled between pieces): parsed in pieces cut at top-level semicolons, with a
 * turn of the event loop between them. A piece the parser refuses (a cut inside a body such as
 * BEGIN ATOMIC … END, which the cheap scan cannot see) makes the whole file parse in one go,
 * so text, line, type, the nodes' `location` fields and any syntax error are exactly splitPgStatements'.
 */
export async function splitPgStatementsAsync(sql: string, signal?: AbortSignal): Promise<PgStatement[]> {
  const known = parsed.get(sql);
  if (known) return known;
  if (sql.length <= CHUNK_CHARS) return splitPgStatements(sql);
  const raws: RawStatement[] = [];
  let byteOffset = 0;
  try {
    for (const piece of topLevelPieces(sql, CHUNK_CHARS)) {
      const length = Buffer.byteLength(piece, 'utf8');
      for (const raw of parseTree(piece)) {
        const start = byteOffset + (raw.stmt_location ?? 0);
        raws.push({ stmt: raw.stmt, stmt_location: start, stmt_len: raw.stmt_len || byteOffset + length - start, shift: byteOffset });
      }
      byteOffset += length;
      await yieldToEventLoop();
      signal?.throwIfAborted();
    }
  } catch (error) {
    if (!(error instanceof PgSyntaxError)) throw error;
    return splitPgStatements(sql);
  }
  return toStatements(Buffer.from(sql, 'utf8'), raws);
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

/** `shift`: what turns the nodes' `location` fields (byte offsets in the text the parser saw: many files joined, or one piece) into offsets in this file. */
type RawStatement = { stmt: PgNode; stmt_location?: number; stmt_len?: number; shift?: number };

/**
 * Move every `location` in a parse tree by `shift` bytes, in place (the tree is fresh from the
 * parser). Lint turns locations into lines: without this, a file parsed after others in one
 * batch call named lines past its own end.
 */
function shiftLocations(node: unknown, shift: number): void {
  if (Array.isArray(node)) {
    for (const item of node) shiftLocations(item, shift);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const fields = node as Record<string, unknown>;
  for (const key in fields) {
    const value = fields[key];
    // -1 is the parser's "unknown".
    if (key === 'location' && typeof value === 'number') {
      if (value >= 0) fields[key] = value + shift;
    } else if (value && typeof value === 'object') shiftLocations(value, shift);
  }
}

/** The tree's statements: text (leading comments excluded), line, type and fields, in one pass over the bytes. */
function toStatements(bytes: Buffer, raws: readonly RawStatement[]): PgStatement[] {
  const statements: PgStatement[] = [];
  let counted = 0;
  let linesBefore = 0;
  for (const raw of raws) {
    const start = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
    const full = bytes.subarray(start, end).toString('utf8');
    const { skip, lines } = leadingTrivia(full);
    linesBefore += newlinesIn(bytes, counted, start);
    counted = Math.max(counted, start);
    if (raw.shift) shiftLocations(raw.stmt, raw.shift);
    const [type, node] = Object.entries(raw.stmt)[0] as [string, Record<string, unknown>];
    statements.push({ text: full.slice(skip).trim(), line: linesBefore + lines + 1, type, node });
  }
  return statements;
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

function detachesConcurrently(node: Record<string, unknown>): boolean {
  const cmds = (node.cmds ?? []) as Array<{ AlterTableCmd?: { subtype?: string; def?: { PartitionCmd?: { concurrent?: boolean } } } }>;
  return cmds.some((c) => c.AlterTableCmd?.subtype === 'AT_DetachPartition' && !!c.AlterTableCmd.def?.PartitionCmd?.concurrent);
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
    else if (s.type === 'AlterTableStmt' && detachesConcurrently(n)) at(s, 'DETACH PARTITION … CONCURRENTLY');
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
