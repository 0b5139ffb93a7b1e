import path from 'node:path';
import type { Config } from '../config.js';
import { parseDatabaseLocation, sqlitePath } from '../database-url.js';
import type { RunOptions } from '../pipeline/context.js';
import type { RunResult } from '../pipeline/types.js';
import { configOf, settle, type PipelineOptions, type Settled } from './options.js';

// What the pipeline's commands (migrate, plan, verify, backup, restore) share: the options
// become the Config and the run options; a failure before the run is a RunResult too.

export function runPipeline(command: string, options: PipelineOptions, run: (config: Config, runOptions: RunOptions) => Promise<RunResult>): Promise<Settled<RunResult>> {
  return settle(
    command,
    () =>
      run(configOf(options), {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      }),
    (error) => ({
      ok: false,
      command,
      status: 'failed',
      schemaState: 'not-inspected',
      steps: [],
      counts: {},
      warnings: [],
      backup: null,
      target: '',
      checks: [],
      notices: [],
      source: options.source ?? '',
      runAt: new Date().toISOString(),
      totalMs: 0,
      error,
    }),
  );
}

/** A path option resolved as the CLI resolves its arguments. */
export function resolvedPath(options: PipelineOptions, file: string): string {
  return path.resolve(options.cwd ?? process.cwd(), file);
}

/** A database option (a path, sqlite://path or file:path) as a SQLite file; without one, the configured database. */
export function databasePath(options: PipelineOptions, config: Config, value: string | undefined, option: string): string {
  return sqlitePath(value !== undefined ? parseDatabaseLocation(value, options.cwd ?? process.cwd(), option) : config.database);
}
