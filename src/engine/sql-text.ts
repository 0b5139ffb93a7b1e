// Just enough of SQLite's lexer to split a migration into statements with their line numbers:
// quotes ('…', "…", `…`, […]), comments (-- and /* */) and trigger bodies (BEGIN … END;).

export interface Statement {
  /** The statement without comments, whitespace collapsed, no trailing semicolon. */
  text: string;
  /** 1-based line of its first character in the file. */
  line: number;
}

export function splitStatements(sql: string): Statement[] {
  const statements: Statement[] = [];
  let current = '';
  let startLine = 0;
  let line = 1;
  let i = 0;
  const push = () => {
    const text = current.replace(/\s+/g, ' ').trim();
    if (text) statements.push({ text, line: startLine });
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
    if (!startLine && !/\s/.test(ch) && ch !== ';') startLine = line;
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
    if (ch === ';' && !(isTrigger(current) && !/\bEND\s*$/i.test(current.trim()))) {
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
