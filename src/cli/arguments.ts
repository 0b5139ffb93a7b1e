import path from 'node:path';
import { parseDatabaseLocation, type DatabaseLocation } from '../database-url.js';
import { UsageError } from '../errors.js';
import type { CliIo } from './io.js';

// Path and database arguments given on the command line. An empty one is a usage error (64),
// never a silent fall-back to a default: `--to ''` must not mean instance/health_records.db.

/** A SQLite database argument: a path, sqlite://path or file:path. */
export function databaseArgument(io: CliIo, value: string, what: string): string {
  return sqlitePath(parseDatabaseLocation(value, io.cwd, what));
}

/** A file argument that is not a database URL (a backup, an output file). */
export function pathArgument(io: CliIo, value: string, what: string): string {
  if (value.trim() === '') {
    throw new UsageError('empty-value', `${what} is empty; an empty value names no file.`, {
      hint: `Give ${what} a path, or leave it out to use the default.`,
      dataState: 'Nothing was changed.',
    });
  }
  return path.resolve(io.cwd, value);
}

/** dbshift runs on SQLite files; a PostgreSQL URL is recognised (never turned into a path) and refused until its driver lands. */
export function sqlitePath(location: DatabaseLocation): string {
  if (location.kind === 'sqlite') return location.path;
  throw new UsageError('postgres-not-supported', `PostgreSQL is not supported yet (${location.display}): dbshift runs on SQLite files for now.`, {
    hint: 'Pass a SQLite path or sqlite://path with --database (or DATABASE / DATABASE_URL).',
    dataState: 'Nothing was changed.',
  });
}
