// SQL text compared by meaning, not by typing: the same view written by hand and as an engine
// printed it differ in case, quotes and spacing. Literals keep their case; everything else is
// one token stream, lower-cased, with simple quoted identifiers unquoted.

const TOKEN = /'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|[A-Za-z_][\w$]*|\d+(?:\.\d+)?|::|<=|>=|<>|!=|\|\||\S/g;

export function sqlTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const match of text.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ').matchAll(TOKEN)) {
    const token = match[0];
    if (token.startsWith("'")) tokens.push(token);
    else if (/^["`[]/.test(token)) {
      const inner = token.slice(1, -1).replace(/""/g, '"');
      tokens.push(/^[A-Za-z_][\w$]*$/.test(inner) ? inner.toLowerCase() : token);
    } else tokens.push(token.toLowerCase());
  }
  return tokens;
}

/**
 * The same SQL with one identifier renamed wherever it appears as an identifier (bare or
 * quoted; never inside a string literal), the way SQLite's RENAME rewrites a schema's text.
 */
export function renameIdentifier(sql: string, from: string, to: string): string {
  return sql.replace(TOKEN, (token) => {
    if (token.startsWith("'")) return token;
    const bare = /^["`[]/.test(token) ? token.slice(1, -1).replace(/""/g, '"') : token;
    return bare.toLowerCase() === from.toLowerCase() && /^([A-Za-z_]|["`[])/.test(token) ? quoteName(to) : token;
  });
}

export function normalizeSql(text: string): string {
  return sqlTokens(text).join(' ').replace(/;$/, '').trim();
}

/** A type name: upper case, single spaces, `( 10 , 2 )` as `(10,2)`. */
export function normalizeType(type: string): string {
  return type.trim().replace(/\s+/g, ' ').replace(/\s*([(),])\s*/g, '$1').toUpperCase();
}

/** The parts of a parenthesised list, split at top-level commas (none inside brackets or literals). */
export function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === "'" || c === '"' || c === '`') {
      const end = body.indexOf(c, i + 1);
      i = end === -1 ? body.length : end;
    } else if (c === '[') {
      i = Math.max(i, body.indexOf(']', i));
    } else if (c === '-' && body[i + 1] === '-') {
      const end = body.indexOf('\n', i);
      i = end === -1 ? body.length : end;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(body.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(body.slice(start).trim());
  return parts.filter(Boolean);
}

/** The text between the first `(` and its matching `)`, and what follows it. */
export function parenthesised(text: string, from = 0): { inner: string; after: string } | undefined {
  const open = text.indexOf('(', from);
  if (open === -1) return undefined;
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"' || c === '`') {
      const end = text.indexOf(c, i + 1);
      i = end === -1 ? text.length : end;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return { inner: text.slice(open + 1, i), after: text.slice(i + 1) };
  }
  return undefined;
}

/** An identifier, double-quoted only when it must be. */
export function quoteName(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

// Words both engines refuse as bare identifiers (and a few that only confuse).
const RESERVED = new Set(['all', 'and', 'as', 'asc', 'between', 'by', 'case', 'check', 'collate', 'column', 'constraint', 'create', 'default', 'delete', 'desc', 'distinct', 'drop', 'else', 'end', 'exists', 'foreign', 'from', 'group', 'having', 'in', 'index', 'insert', 'into', 'is', 'join', 'key', 'limit', 'not', 'null', 'on', 'or', 'order', 'primary', 'references', 'select', 'set', 'table', 'then', 'to', 'transaction', 'trigger', 'union', 'unique', 'update', 'user', 'using', 'values', 'view', 'when', 'where', 'with', 'order', 'offset', 'natural', 'left', 'right', 'full', 'inner', 'outer', 'cross', 'analyze', 'array', 'both', 'cast', 'current_date', 'current_time', 'current_timestamp', 'current_user', 'do', 'false', 'true', 'for', 'grant', 'leading', 'trailing', 'only', 'returning', 'some', 'any', 'symmetric', 'variadic', 'window', 'fetch', 'placing', 'session_user', 'localtime', 'localtimestamp']);
