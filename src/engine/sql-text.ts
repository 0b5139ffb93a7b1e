// Just enough of SQLite's lexer to split a migration into statements with their line numbers:
// quotes ('…', "…", `…`, […]), comments (-- and /* */) and trigger bodies (BEGIN … END;).

export interface Statement {
  /** The statement without comments, whitespace collapsed, no trailing semicolon. */
  text: string;
  /** 1-based line of its first character in the file. */
  line: number;
  /** Offsets in the file: its first character, and just past its end (the `;` excluded). */
  start: number;
  end: number;
}

export function splitStatements(sql: string): Statement[] {
  const statements: Statement[] = [];
  let current = '';
  let startLine = 0;
  let start = 0;
  let line = 1;
  let i = 0;
  const push = () => {
    const text = current.replace(/\s+/g, ' ').trim();
    if (text) statements.push({ text, line: startLine, start, end: i });
    current = '';
    startLine = 0;
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (ch === '-' && next === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      line += (sql.slice(i, stop).match(/\n/g) ?? []).length;
      current += ' ';
      i = stop;
      continue;
    }
    if (!startLine && !/\s/.test(ch) && ch !== ';') {
      startLine = line;
      start = i;
    }
    if (ch === "'" || ch === '"' || ch === '`' || ch === '[') {
      const close = ch === '[' ? ']' : ch;
      let j = i + 1;
      for (; j < sql.length; j++) {
        if (sql[j] === close) {
          if (close !== ']' && sql[j + 1] === close) j++;
          else break;
        }
      }
      const literal = sql.slice(i, j + 1);
      line += (literal.match(/\n/g) ?? []).length;
      current += literal;
      i = j + 1;
      continue;
    }
    if (ch === '\n') line++;
    if (ch === ';' && !(isTrigger(current) && !triggerComplete(current))) {
      push();
      i++;
      continue;
    }
    current += ch;
    i++;
  }
  push();
  return statements;
}

function isTrigger(text: string): boolean {
  return /^\s*CREATE\s+(TEMP\s+|TEMPORARY\s+)?TRIGGER\b/i.test(text);
}

/** A trigger body ends at its own END: one more END than the CASE … END expressions inside it. */
function triggerComplete(text: string): boolean {
  const words = text.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]/g, ' ');
  if (!/\bEND\s*$/i.test(words)) return false;
  const count = (word: RegExp) => (words.match(word) ?? []).length;
  return count(/\bEND\b/gi) > count(/\bCASE\b/gi);
}

/** The statement with string literals blanked, for keyword tests that must not look inside values. */
export function withoutLiterals(text: string): string {
  return text.replace(/'(?:[^']|'')*'/g, "''");
}

/** An identifier as SQLite compares it: unquoted, lower case. */
export function identifier(raw: string): string {
  const unquoted = /^["`[]/.test(raw) ? raw.slice(1, -1) : raw;
  return unquoted.toLowerCase();
}

export const IDENT = String.raw`(?:"(?:[^"]|"")+"|\`[^\`]+\`|\[[^\]]+\]|[A-Za-z_][\w$]*)`;

// SQLite accepts a (meaningless) name after TRANSACTION: `BEGIN TRANSACTION t1`, `COMMIT TRANSACTION t1`.
const BEGIN = /^BEGIN(?:\s+(?:DEFERRED|IMMEDIATE|EXCLUSIVE))?(?:\s+TRANSACTION(?:\s+\S+)?)?$/i;
const COMMIT = /^(?:COMMIT|END)(?:\s+TRANSACTION(?:\s+\S+)?)?$/i;
// ROLLBACK TO a savepoint stays inside the enclosing transaction; plain ROLLBACK ends it.
const ROLLBACK = /^ROLLBACK(?:\s+TRANSACTION(?:\s+(?!TO\b)\S+)?)?$/i;

export interface TransactionControl {
  /** The file is one BEGIN … COMMIT around everything: the SQL between them. */
  unwrapped?: string;
  /** Otherwise, the first statement that begins or ends a transaction. */
  first?: Statement;
  /** A COMMIT or ROLLBACK with no BEGIN before it: outside dbshift's transaction it always fails, after its earlier statements took effect. */
  problem?: string;
}

/**
 * Statements that begin or end a transaction. golang-migrate users write BEGIN … COMMIT
 * around a file because their tool does not always wrap; inside dbshift's transaction the
 * file's own COMMIT would commit half of the work and the bookkeeping would follow separately.
 */
export function transactionControl(sql: string, statements: readonly Statement[] = splitStatements(sql)): TransactionControl {
  const controls = statements.filter((s) => BEGIN.test(s.text) || COMMIT.test(s.text) || ROLLBACK.test(s.text));
  if (controls.length === 0) return {};
  const opening = statements[0]!;
  const last = statements.at(-1)!;
  if (controls.length === 2 && controls[0] === opening && controls[1] === last && BEGIN.test(opening.text) && COMMIT.test(last.text)) {
    return { unwrapped: sql.slice(sql.indexOf(';', opening.end) + 1, last.start) };
  }
  const first = controls[0]!;
  if (!BEGIN.test(first.text)) {
    return { first, problem: `line ${first.line}: ${first.text} ends a transaction the file never began` };
  }
  return { first };
}
