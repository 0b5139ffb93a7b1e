// One error hierarchy for the whole tool. Every error knows its exit code (sysexits style),
// a stable machine-readable `code`, what happened to the data, and what to do next.
// Only cli/run.ts turns these into a process exit.

export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 64,
  data: 65,
  noInput: 66,
  cannotCreate: 73,
  io: 74,
  busy: 75,
  config: 78,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ToolErrorOptions {
  /** What to do next, one sentence. */
  hint?: string;
  /** What happened to the data, e.g. "Nothing was changed." Filled in by the pipeline when unknown. */
  dataState?: string;
  cause?: unknown;
}

export abstract class ToolError extends Error {
  abstract readonly exitCode: ExitCodeValue;
  readonly code: string;
  hint: string | undefined;
  dataState: string | undefined;

  constructor(code: string, message: string, options: ToolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.dataState = options.dataState;
  }
}

/** A bug in dbshift. */
export class InternalError extends ToolError {
  readonly exitCode = ExitCode.internal;
}
/** The command line asks for something that cannot be done as asked (commander handles the rest). */
export class UsageError extends ToolError {
  readonly exitCode = ExitCode.usage;
}
/** The data is not what it must be: verification failed, duplicates, a warning under --strict. */
export class DataError extends ToolError {
  readonly exitCode = ExitCode.data;
}
/** The input is missing, not SQLite, or corrupt. */
export class InputError extends ToolError {
  readonly exitCode = ExitCode.noInput;
}
/** An output path cannot be created: it is a symlink, already exists, or is not writable. */
export class CannotCreateError extends ToolError {
  readonly exitCode = ExitCode.cannotCreate;
}
/** The operating system failed a read or write: disk full, EIO. */
export class IoError extends ToolError {
  readonly exitCode = ExitCode.io;
}
/** Someone else is using the data: a lock, another run, a live WAL, a source that changed. */
export class BusyError extends ToolError {
  readonly exitCode = ExitCode.busy;
}
/** Configuration is missing or wrong, e.g. SECRET_KEY. */
export class ConfigError extends ToolError {
  readonly exitCode = ExitCode.config;
}
/** The operator pressed Ctrl-C (or the process got SIGTERM). */
export class InterruptedError extends ToolError {
  readonly exitCode = ExitCode.interrupted;
}

const ioErrnos = new Set(['ENOSPC', 'EIO', 'EDQUOT', 'EROFS', 'EFBIG']);
const createErrnos = new Set(['EEXIST', 'ELOOP', 'EACCES', 'EPERM', 'ENOTDIR', 'EISDIR']);

/**
 * Optional peer dependencies (src/optional.ts imports them): what each is for, for the message
 * when it is missing.
 */
export const OPTIONAL_PEERS = {
  typescript: 'reading code migrations (.ts and .js)',
  '@electric-sql/pglite': 'PostgreSQL lint replay and diff without a server',
} as const;
export type OptionalPeer = keyof typeof OPTIONAL_PEERS;

/** The error for a missing optional peer: exit 78 (configuration), with the install command. */
export function missingPeer(name: OptionalPeer, cause?: unknown): ConfigError {
  return new ConfigError('missing-optional-dependency', `${name} is not installed; dbshift needs it for ${OPTIONAL_PEERS[name]}.`, {
    hint: `npm install -D ${name}`,
    dataState: 'Nothing was changed.',
    cause,
  });
}

/** Whether an import failure means "this package is not installed" (not an error inside it). */
export function isMissingPackage(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && typeof message === 'string' && message.includes(`'${name}'`);
}

/**
 * Classify anything thrown (Node system errors, SqliteError, our own) into a ToolError,
 * keeping the original as `cause`. `path` names the file the failing operation was about.
 */
export function toToolError(error: unknown, path?: string): ToolError {
  if (error instanceof ToolError) return error;
  // AbortSignal.throwIfAborted() and aborted streams: the operator's Ctrl-C, not a bug.
  if ((error as { name?: unknown } | null)?.name === 'AbortError') {
    return new InterruptedError('interrupted', 'Interrupted.', { hint: 'Run the same command again when ready.', cause: error });
  }
  const err = error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof err?.code === 'string' ? err.code : '';
  const message = typeof err?.message === 'string' ? err.message : String(error);
  const where = path ? ` (${path})` : '';

  // An optional peer imported where no helper wraps it (the PostgreSQL lint replay's PGlite).
  const peer = (Object.keys(OPTIONAL_PEERS) as OptionalPeer[]).find((name) => isMissingPackage(error, name));
  if (peer) return missingPeer(peer, error);
  if (ioErrnos.has(code) || code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR')) {
    const what = code === 'ENOSPC' || code === 'SQLITE_FULL' || code === 'EDQUOT' ? 'The disk is full' : 'An I/O error occurred';
    return new IoError('io-error', `${what}${where}: ${message}`, {
      hint: 'Free space or fix the device, then run the same command again.',
      cause: error,
    });
  }
  if (createErrnos.has(code)) {
    return new CannotCreateError('cannot-create', `Cannot create or write${where}: ${message}`, {
      hint: 'Check the path, its permissions and that it is not a symlink.',
      cause: error,
    });
  }
  if (code === 'ENOENT') {
    return new InputError('missing-input', `Not found${where}: ${message}`, { cause: error });
  }
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED') {
    return new BusyError('database-busy', `The database is locked by another process${where}.`, {
      hint: 'Stop the app and its workers (Flask, Celery), then run the same command again.',
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN')) {
    return new InputError('cannot-open', `SQLite cannot open${where}: ${message}`, {
      hint: 'Check permissions: reading a WAL-mode database needs write access to its directory (for the -shm file).',
      cause: error,
    });
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT')) {
    return new InputError('not-a-database', `Not a valid SQLite database${where}: ${message}`, {
      hint: 'Check the path; restore the file from a backup if it is damaged.',
      cause: error,
    });
  }
  return new InternalError('internal', `Unexpected error${where}: ${message}`, {
    hint: 'This is a bug in dbshift. Please report it with the full output.',
    cause: error,
  });
}
