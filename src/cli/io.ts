import type { WriteStream } from 'node:tty';
import type { Config, ConfigFlags } from '../config.js';
import { loadConfig } from '../config.js';
import type { CallOptions } from '../api/options.js';
import type { RunResult } from '../pipeline/types.js';
import { exitCodeOf, withCore, type ResultError } from '../results.js';
import { createProgress, type Progress } from './progress.js';
import { renderResult, wrapToWidth } from './render.js';

/** What commands may touch of the outside world; main.ts builds it, tests can too. */
export interface CliIo {
  cwd: string;
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
  signal: AbortSignal;
  exitCode: number;
  /** The .env file main.ts loaded, if any (named when SECRET_KEY is missing). */
  envFile?: string | undefined;
}

export function configFrom(io: CliIo, flags: ConfigFlags = {}): Config {
  return loadConfig(io.env, flags, io.cwd);
}

/** Colour only on a terminal that wants it (NO_COLOR, FORCE_COLOR and TERM=dumb are honoured). */
export function useColour(io: CliIo, stream: NodeJS.WritableStream): boolean {
  const tty = stream as Partial<WriteStream>;
  return !!tty.isTTY && typeof tty.hasColors === 'function' && tty.hasColors(io.env);
}

/**
 * Print one command's result and set the exit code from it. --json: exactly one JSON object
 * with the common core (src/results.ts) on stdout. Text: the result on stdout when it
 * succeeded; a failure goes to stderr whole, so the reason and the "Next:" hint reach the
 * terminal when stdout is redirected to a log.
 */
export function printResult<R extends { ok: boolean; error?: ResultError | undefined; command?: string; status?: string; notices?: string[] }>(
  io: CliIo,
  command: string,
  json: boolean | undefined,
  result: R,
  render: (result: R, colour: boolean) => string,
  /** A report a CI redirects (lint's findings): on stdout even when it fails; the exit code still says so. */
  reportOnStdout = false,
): void {
  if (result.error?.code === 'secret-key-missing') {
    // Say where dbshift looked, so "I put it in .env" can be checked against the right file.
    const where = io.envFile ? `dbshift read ${io.envFile}` : `there is no .env in ${io.cwd} and ENV_FILE is not set`;
    result = { ...result, error: { ...result.error, message: `${result.error.message.replace(/\.$/, '')} (${where}).` } };
  }
  if (json) {
    io.stdout.write(`${JSON.stringify(withCore(command, result), null, 2)}\n`);
  } else {
    const stream = result.ok || reportOnStdout ? io.stdout : io.stderr;
    // On a terminal, break long lines between words; a file or pipe gets them whole.
    const columns = (stream as Partial<WriteStream>).isTTY ? (stream as Partial<WriteStream>).columns : undefined;
    const text = wrapToWidth(render(result, useColour(io, stream)), columns);
    stream.write(text.endsWith('\n') ? text : `${text}\n`);
  }
  io.exitCode = exitCodeOf(result);
}

/** Progress on stderr: a spinner on a terminal, one line per step elsewhere, nothing with --json. */
export function progressFor(io: CliIo, json: boolean): Promise<Progress> {
  // A pseudo-terminal without a width (some CI runners, `script`) cannot host a spinner.
  const canDraw = io.stderr.isTTY && (io.stderr.columns ?? 0) > 0;
  return createProgress(json ? 'silent' : canDraw ? 'tty' : 'plain', io.stderr, useColour(io, io.stderr));
}

/**
 * Run a library function (src/api) with progress bound to its events, then print its result as
 * text or JSON. `beforeWork` runs at the first event, once the command has got past its refusals.
 */
export async function runAndReport(io: CliIo, command: string, json: boolean, run: (options: CallOptions) => Promise<RunResult>, beforeWork?: () => void): Promise<void> {
  const progress = await progressFor(io, json);
  let started = false;
  const onProgress: NonNullable<CallOptions['onProgress']> = (event) => {
    if (!started) beforeWork?.();
    started = true;
    progress.listener(event);
  };
  let result: RunResult;
  try {
    result = await run({ cwd: io.cwd, onProgress, signal: io.signal });
  } finally {
    progress.stop();
  }
  printResult(io, command, json, result, (r, colour) => renderResult(command, r, colour));
}
