// pg loads when a client connects: resolving a URL (lint with a server whose chain needs no replay) never pays for it.
import type pg from 'pg';
import { InputError, InterruptedError, UsageError } from '../../../errors.js';
import { connectError, connectionLost, QUERY_CANCELED, sqlState } from './errors.js';

// Where the PostgreSQL database is: a postgres:// or postgresql:// URL (libpq's parameters such
// as sslmode, options=-c search_path=…, application_name, host=/socket/dir), completed from the
// standard PG* variables the caller passes in, plus golang-migrate's x-migrations-table options.
// The password never leaves this module except inside the URL handed to the client.

export interface PgTarget {
  /** For pg (node-postgres): x-* options removed, sslmode with libpq's meaning. */
  clientUrl: string;
  /** For pg_dump/pg_restore (libpq): no password (it goes in PGPASSWORD), no x-* options. */
  libpqUrl: string;
  password?: string;
  /** Safe to print. */
  display: string;
  /** golang-migrate's x-migrations-table (a name in the current schema), or "schema"."table" with x-migrations-table-quoted. */
  migrationsTable?: { schema?: string; table: string };
}

const ENV_PARAMS: Array<[string, string]> = [
  ['PGSSLMODE', 'sslmode'],
  ['PGOPTIONS', 'options'],
  ['PGAPPNAME', 'application_name'],
  ['PGCONNECT_TIMEOUT', 'connect_timeout'],
  ['PGSSLROOTCERT', 'sslrootcert'],
  ['PGSSLCERT', 'sslcert'],
  ['PGSSLKEY', 'sslkey'],
];

export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** The URL with its password (in the authority or a password= parameter) replaced by ****. */
export function maskUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '****';
    if (url.searchParams.has('password')) url.searchParams.set('password', '****');
    return url.toString();
  } catch {
    return value.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1****@').replace(/(password=)[^&\s]*/gi, '$1****');
  }
}

function parseMigrationsTable(value: string | null, quoted: string | null): PgTarget['migrationsTable'] {
  if (!value) return undefined;
  if (quoted === null || !/^(1|t|true)$/i.test(quoted)) return { table: value };
  const parts = [...value.matchAll(/"(.*?)"/g)].map((m) => m[1]!);
  if (parts.length === 0 || parts.length > 2) {
    throw new UsageError('bad-migrations-table', `x-migrations-table must be quoted, e.g. '"migrate"."schema_migrations"', when x-migrations-table-quoted is on; got ${value}.`);
  }
  return parts.length === 2 ? { schema: parts[0]!, table: parts[1]! } : { table: parts[0]! };
}

function decodes(value: string): boolean {
  try {
    decodeURIComponent(value);
    return true;
  } catch {
    return false;
  }
}

/** From `--database URL` (or DATABASE_URL) and the PG* variables; either may be missing, not both. */
export function resolvePgTarget(value: string | undefined, env: Record<string, string | undefined>): PgTarget {
  if (!value && !env.PGHOST && !env.PGDATABASE) {
    throw new UsageError('no-database', 'No PostgreSQL database given.', { hint: 'Pass --database postgres://user@host:5432/dbname (or set DATABASE_URL, or PGHOST/PGDATABASE).' });
  }
  let url: URL;
  // A bare % (a password such as p%ss) is not a percent-encoding: libpq and node-postgres would
  // misread or refuse it; say how to write it instead of failing later with "URI malformed".
  if (value && (/%(?![0-9A-Fa-f]{2})/.test(value) || !decodes(value))) {
    throw new UsageError('bad-database-url', `The PostgreSQL URL ${maskUrl(value)} has a % that is not a valid percent-encoding (%XX of UTF-8 bytes).`, {
      hint: 'Percent-encode special characters in the user, password and database name: % as %25, @ as %40, : as %3A, / as %2F, # as %23, ? as %3F (encodeURIComponent does it), or pass the password in PGPASSWORD.',
      dataState: 'Nothing was changed.',
    });
  }
  try {
    url = new URL(value ?? 'postgres://');
  } catch (error) {
    throw new UsageError('bad-database-url', `Not a valid PostgreSQL URL: ${maskUrl(value ?? '')}.`, { hint: 'Use postgres://user:password@host:5432/dbname?sslmode=disable', cause: error });
  }
  if (!/^postgres(ql)?:$/i.test(url.protocol)) {
    throw new InputError('bad-database-url', `${maskUrl(value ?? '')} is not a postgres:// URL.`);
  }
  const password = url.password ? decodeURIComponent(url.password) : (url.searchParams.get('password') ?? env.PGPASSWORD);
  if (!url.hostname && env.PGHOST && !url.searchParams.has('host')) {
    if (env.PGHOST.startsWith('/')) url.searchParams.set('host', env.PGHOST);
    else url.hostname = env.PGHOST;
  }
  // A URL without a host cannot carry a user name: libpq's user= parameter can.
  if (!url.username && !url.searchParams.has('user') && env.PGUSER) {
    if (url.hostname) url.username = encodeURIComponent(env.PGUSER);
    else url.searchParams.set('user', env.PGUSER);
  }
  if (!url.port && !url.searchParams.has('port') && env.PGPORT) {
    if (url.hostname) url.port = env.PGPORT;
    else url.searchParams.set('port', env.PGPORT);
  }
  if ((url.pathname === '' || url.pathname === '/') && env.PGDATABASE) url.pathname = `/${encodeURIComponent(env.PGDATABASE)}`;
  for (const [name, param] of ENV_PARAMS) if (env[name] && !url.searchParams.has(param)) url.searchParams.set(param, env[name]!);

  const migrationsTable = parseMigrationsTable(url.searchParams.get('x-migrations-table'), url.searchParams.get('x-migrations-table-quoted'));
  for (const key of [...url.searchParams.keys()]) if (key.startsWith('x-')) url.searchParams.delete(key);
  url.searchParams.delete('password');
  url.password = '';

  const libpq = new URL(url.toString());
  const client = new URL(url.toString());
  if (password !== undefined) client.password = encodeURIComponent(password);
  // node-postgres treats sslmode=require as verify-full unless told to follow libpq, which is
  // what every other tool (psql, pg_dump, golang-migrate's lib/pq) means by it.
  if (client.searchParams.has('sslmode') && !client.searchParams.has('uselibpqcompat')) client.searchParams.set('uselibpqcompat', 'true');

  const shown = new URL(url.toString());
  if (password) shown.password = '****';
  return {
    clientUrl: client.toString(),
    libpqUrl: libpq.toString(),
    ...(password !== undefined ? { password } : {}),
    display: shown.toString(),
    ...(migrationsTable ? { migrationsTable } : {}),
  };
}

/**
 * A connected client, named `dbshift` on the server unless the URL names it; a server that is
 * not there is a clear error (66), not a stack trace. A connection that dies while idle must not
 * crash the process: the next query reports it. With the run's `signal`, a query the server
 * cancelled after the operator's Ctrl-C or SIGTERM (the driver cancels whatever runs) is that
 * interruption (130), whichever of dbshift's queries it hit: a version read, a catalog read,
 * the lock, not only a migration's statement.
 */
export async function connectClient(connectionString: string, display: string, signal?: AbortSignal): Promise<pg.Client> {
  const { default: driver } = await import('pg');
  const client = new driver.Client({ connectionString, fallback_application_name: 'dbshift' } as pg.ClientConfig);
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw connectError(error, display);
  }
  // A session the server ended (a restart, pg_terminate_backend) fails every later query with
  // node-postgres' own words and no SQLSTATE: say what it is (74) wherever dbshift queries.
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((...args: unknown[]) => {
    const result = query(...args);
    return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(interruptedBy(signal, error) ?? connectionLost(error) ?? error)) : result;
  }) as typeof client.query;
  return client;
}

function interruptedBy(signal: AbortSignal | undefined, error: unknown): InterruptedError | undefined {
  if (!signal?.aborted || sqlState(error) !== QUERY_CANCELED) return undefined;
  return new InterruptedError('interrupted', 'Interrupted: the running statement was cancelled on the server.', { hint: 'Run the same command again when ready.', cause: error });
}
