import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './errors.js';

// One parser for every database argument (--database, DATABASE, DATABASE_URL, --source,
// SOURCE_DB, verify's DB, restore's --to). golang-migrate and dbmate users pass URLs; before
// this, `postgres://host/db` was resolved as a relative path and became directories.
// Pure: no file system, no environment.

export type DatabaseLocation =
  /** An absolute path to a SQLite file. */
  | { kind: 'sqlite'; path: string }
  /** A PostgreSQL URL, for a driver to take; `display` has the password removed. */
  | { kind: 'postgres'; url: string; display: string };

const SQLITE_SCHEMES = new Set(['sqlite', 'sqlite3']);
const POSTGRES_SCHEMES = new Set(['postgres', 'postgresql']);
/** Only these prefixes (or any `scheme://`) make a URL; `my:file.db` stays a file name. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * `sqlite://app.db`, `sqlite3:///abs/app.db`, `sqlite:db/app.sqlite3` (dbmate), `file:app.db`,
 * `file:///abs/app.db` and plain paths mean SQLite; `postgres://` and `postgresql://` mean
 * PostgreSQL. `what` names the setting in messages (e.g. "--database", "DATABASE_URL").
 */
export function parseDatabaseLocation(value: string, cwd: string, what: string): DatabaseLocation {
  if (value.trim() === '') {
    throw new UsageError('empty-value', `${what} is empty; an empty value names no database.`, {
      hint: `Give ${what} a path or a URL (sqlite://app.db), or leave it out to use the default.`,
      dataState: 'Nothing was changed.',
    });
  }
  const scheme = SCHEME.exec(value)?.[1]?.toLowerCase();
  const isUrl = scheme !== undefined && (SQLITE_SCHEMES.has(scheme) || POSTGRES_SCHEMES.has(scheme) || scheme === 'file' || value.startsWith(`${scheme}://`));
  if (!isUrl) return { kind: 'sqlite', path: path.resolve(cwd, value) };
  if (POSTGRES_SCHEMES.has(scheme)) return { kind: 'postgres', url: value, display: withoutPassword(value) };
  if (!SQLITE_SCHEMES.has(scheme) && scheme !== 'file') {
    throw new UsageError('unsupported-database-url', `${what}: ${scheme}:// databases are not supported (SQLite files and postgres:// URLs are).`, {
      hint: 'Pass a SQLite path, sqlite://path or file:path.',
      dataState: 'Nothing was changed.',
    });
  }
  const rest = value.slice(scheme.length + 1);
  if (/[?#]/.test(rest)) {
    // golang-migrate's x-migrations-table or SQLite's ?mode=ro would change what runs; never ignore them silently.
    throw new UsageError('database-url-parameters', `${what}: dbshift takes no parameters in a database URL (${rest.slice(rest.search(/[?#]/))}).`, {
      hint: 'Remove the ?… part; dbshift uses golang-migrate\'s schema_migrations table and opens the file read-write.',
      dataState: 'Nothing was changed.',
    });
  }
  let file: string;
  try {
    file = scheme === 'file' && rest.startsWith('//') ? fileURLToPath(value) : decodeURIComponent(rest.replace(/^\/\//, ''));
  } catch (error) {
    throw new UsageError('bad-database-url', `${what}: ${(error as Error).message}`, { hint: 'Write file:///absolute/path.db or file:relative/path.db.', dataState: 'Nothing was changed.' });
  }
  if (file === '') throw new UsageError('empty-value', `${what}: ${value} names no file.`, { hint: 'Write sqlite://app.db (relative) or sqlite:///srv/app.db (absolute).', dataState: 'Nothing was changed.' });
  return { kind: 'sqlite', path: path.resolve(cwd, file) };
}

/** A directory argument: a plain path, or golang-migrate's `-source file://migrations`. */
export function parseDirectoryArgument(value: string, cwd: string, what: string): string {
  if (value.trim() === '') {
    throw new UsageError('empty-value', `${what} is empty; an empty value names no directory.`, {
      hint: `Give ${what} a path, or leave it out to use the default.`,
      dataState: 'Nothing was changed.',
    });
  }
  if (!value.startsWith('file://')) return path.resolve(cwd, value);
  // golang-migrate reads file://migrations as relative and file:///abs as absolute.
  return path.resolve(cwd, decodeURIComponent(value.slice('file://'.length)));
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/**
 * Where a SQLite file is needed (migrate, plan, verify, backup, a SQLite restore, the library's
 * versioned functions for now): a PostgreSQL URL is recognised (never turned into a path) and
 * refused. The CLI's versioned commands send postgres:// to its driver first (cli/postgres.ts).
 */
export function sqlitePath(location: DatabaseLocation): string {
  if (location.kind === 'sqlite') return location.path;
  throw new UsageError('postgres-not-supported', `${location.display} is PostgreSQL; this command works on SQLite files.`, {
    hint: 'Pass a SQLite path or sqlite://path; the versioned commands (dbshift up, down, version, …) take the postgres:// URL.',
    dataState: 'Nothing was changed.',
  });
}
