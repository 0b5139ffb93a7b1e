import path from 'node:path';
import { parseDatabaseLocation, sqlitePath } from '../database-url.js';
import { UsageError } from '../errors.js';
import type { CliIo } from './io.js';

export { sqlitePath };

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
