import { BusyError, ConfigError, InputError, IoError, toToolError, type ToolError } from '../../../errors.js';

// What node-postgres throws, as the tool's errors. A migration's own SQL errors stay unknown
// here (the engine blames the migration for them); connection and access problems do not.

interface PgLikeError {
  code?: string;
  message?: string;
}

export const LOCK_NOT_AVAILABLE = '55P03';
export const QUERY_CANCELED = '57014';
export const IN_FAILED_TRANSACTION = '25P02';

export function sqlState(error: unknown): string | undefined {
  const code = (error as PgLikeError | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Connecting failed: which of our exit codes, and what to do. `location` is the masked URL. */
export function connectError(error: unknown, location: string): ToolError {
  const err = error as PgLikeError;
  const code = err?.code ?? '';
  const message = err?.message ?? String(error);
  if (code === '28P01' || code === '28000') {
    return new ConfigError('database-auth', `PostgreSQL refused the login to ${location}: ${message}.`, {
      hint: 'Check the user and password (in the URL, PGPASSWORD or ~/.pgpass) and pg_hba.conf.',
      dataState: 'Nothing was changed.',
      cause: error,
    });
  }
  if (code === '3D000') {
    return new InputError('missing-database', `There is no database ${location}: ${message}.`, {
      hint: 'Check the database name in the URL, or create it (createdb NAME) first.',
      dataState: 'Nothing was changed.',
      cause: error,
    });
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ENOENT', 'EAI_AGAIN', 'ECONNRESET'].includes(code) || /timeout|terminated/i.test(message)) {
    return new InputError('cannot-connect', `Cannot connect to ${location}: ${message}.`, {
      hint: 'Check that the server runs and the host, port (or socket directory) and sslmode in the URL.',
      dataState: 'Nothing was changed.',
      cause: error,
    });
  }
  return toToolError(error);
}

/** Errors that are the server's state, not the migration's fault. */
export function serverStateError(error: unknown): ToolError | undefined {
  const code = sqlState(error);
  const message = (error as PgLikeError)?.message ?? String(error);
  if (code === '40P01' || code === '40001') {
    return new BusyError('database-busy', `PostgreSQL aborted the migration to resolve a conflict with another session: ${message}.`, {
      hint: 'Run the same command again; if it repeats, run it when the app is quieter.',
      cause: error,
    });
  }
  if (code === QUERY_CANCELED) {
    return new BusyError('statement-timeout', `A statement ran longer than the statement timeout and was cancelled: ${message}.`, {
      hint: 'Raise --statement-timeout, or split the migration (batch a big UPDATE).',
      cause: error,
    });
  }
  const lost = connectionLost(error);
  if (lost) return lost;
  if (code === '53100') {
    return new IoError('io-error', `The PostgreSQL server is out of disk space: ${message}.`, { hint: 'Free space on the server, then run the same command again.', cause: error });
  }
  return undefined;
}

/** node-postgres' own words for a connection that is gone (they carry no SQLSTATE). */
const CLIENT_LOST = /Connection terminated|not queryable|Client was closed|connection error/i;
const SOCKET_LOST = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT']);

/**
 * The server ended the session (pg_terminate_backend, a restart, a failover) or the network
 * dropped it: an operator's or the infrastructure's doing, never a bug (74). What it did to the
 * data is the runner's to say: the server rolled back any open transaction.
 */
export function connectionLost(error: unknown): IoError | undefined {
  if (error instanceof IoError) return error;
  const code = sqlState(error);
  const errno = (error as PgLikeError | undefined)?.code ?? '';
  const message = (error as PgLikeError | undefined)?.message ?? String(error);
  const byServer = code === '57P01' || code === '57P02' || code === '57P03' || code?.startsWith('08');
  if (!byServer && !SOCKET_LOST.has(errno) && !(code === undefined && CLIENT_LOST.test(message))) return undefined;
  return new IoError('connection-lost', `The connection to PostgreSQL was lost: ${message}.`, {
    hint: 'Check the server, then run `dbshift version`: a transactional migration was rolled back; a no-transaction one may have left the database dirty.',
    cause: error,
  });
}
