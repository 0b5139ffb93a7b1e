import { ExitCode, toToolError, type ToolError } from './errors.js';

// The one result vocabulary every command shares, at the bottom of the layering beside
// errors.ts: the CLI prints these objects with --json, and the library entry (issue 11)
// returns the same ones. Each command adds its own fields after the common core.

/** A failure as data: what happened, what it did to the data, what to do next, the exit code. */
export interface ResultError {
  /** Stable and machine-readable, e.g. `usage`, `missing-key`, `verification-failed`. */
  code: string;
  message: string;
  /** What to do next, one sentence. */
  hint?: string;
  /** What happened to the data, e.g. "Nothing was changed." */
  dataState?: string;
  exitCode: number;
}

/** A condition that does not stop a run but that the operator should see (anomalous rows, by id only). */
export interface Warning {
  code: string;
  table?: string;
  count: number;
  /** The first 20 row ids (never row content). */
  ids: Array<number | string>;
  message: string;
}

/** One thing proven (or not) about the data: a verification check, a migration's own verify(). */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  ids?: Array<number | string>;
}

/** The common core of every command's result (docs/commands.md: "The --json core"). */
export interface CommandResult {
  ok: boolean;
  /** The command as the operator named it: `migrate`, `up`, `backups`… */
  command: string;
  /** What happened, in one word: `migrated`, `applied`, `listed`, `created`, `failed`… */
  status: string;
  /** Present exactly when ok is false. */
  error?: ResultError;
  /** Things the operator should know that are not failures (a stale lock taken over, a file moved aside). */
  notices: string[];
}

export function resultError(error: unknown, fallbackDataState?: string): ResultError {
  const tool: ToolError = toToolError(error);
  const dataState = tool.dataState ?? fallbackDataState;
  return {
    code: tool.code,
    message: tool.message,
    ...(tool.hint ? { hint: tool.hint } : {}),
    ...(dataState ? { dataState } : {}),
    exitCode: tool.exitCode,
  };
}

/** A command that failed before it could produce a result of its own (usage, configuration). */
export function failedResult(command: string, error: ResultError): CommandResult {
  return { ok: false, command, status: 'failed', error, notices: [] };
}

/**
 * Give any command's own result the common core, keeping every field it has. Cores that
 * already carry `command`, `status` and `notices` pass through unchanged.
 */
export function withCore<R extends { ok: boolean; error?: ResultError | undefined; command?: string; status?: string; notices?: string[] }>(
  command: string,
  result: R,
): R & CommandResult {
  const { ok, error, command: own, status, notices, ...rest } = result;
  return {
    ok,
    command: own ?? command,
    status: status ?? (ok ? 'ok' : 'failed'),
    ...(error ? { error } : {}),
    notices: notices ?? [],
    ...rest,
  } as R & CommandResult;
}

/** The exit code a result stands for: the data outcome, whatever happened to the output afterwards. */
export function exitCodeOf(result: { error?: { exitCode: number } | undefined }): number {
  return result.error?.exitCode ?? ExitCode.ok;
}
