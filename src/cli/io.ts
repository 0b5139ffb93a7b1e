import type { Config, ConfigFlags } from '../config.js';
import { loadConfig } from '../config.js';
import type { RunOptions } from '../pipeline/context.js';
import type { RunResult } from '../pipeline/types.js';
import { createProgress } from './progress.js';
import { renderResult } from './render.js';

/** What commands may touch of the outside world; main.ts builds it, tests can too. */
export interface CliIo {
  cwd: string;
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
  signal: AbortSignal;
  exitCode: number;
}

export function configFrom(io: CliIo, flags: ConfigFlags = {}): Config {
  return loadConfig(io.env, flags, io.cwd);
}

/** Run a core command with progress bound to its events, then print its result as text or JSON. */
export async function runAndReport(io: CliIo, command: string, json: boolean, run: (options: RunOptions) => Promise<RunResult>): Promise<void> {
  // A pseudo-terminal without a width (some CI runners, `script`) cannot host a spinner.
  const canDraw = io.stderr.isTTY && (io.stderr.columns ?? 0) > 0;
  const progress = createProgress(json ? 'silent' : canDraw ? 'tty' : 'plain', io.stderr);
  let result: RunResult;
  try {
    result = await run({ onProgress: progress.listener, signal: io.signal });
  } finally {
    progress.stop();
  }
  io.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : renderResult(command, result));
  io.exitCode = result.error?.exitCode ?? 0;
}
