import { restore as runRestore } from '../pipeline/restore.js';
import type { RunResult } from '../pipeline/types.js';
import type { PipelineOptions, Settled } from './options.js';
import { resolvedPath, runPipeline } from './pipeline.js';

export interface RestoreOptions extends PipelineOptions {
  /** The backup to restore (default: the newest in the backup directory that has its checksum). */
  backup?: string;
  /** Where to restore it (default: `instance/health_records.db`). */
  to?: string;
}

/** `dbshift restore`: check the backup (SHA-256, quick_check), keep the current file in the backups, put the backup in place atomically. */
export function restore(options: RestoreOptions = {}): Promise<Settled<RunResult>> {
  return runPipeline('restore', options, (config, runOptions) =>
    runRestore(
      config,
      {
        ...(options.backup !== undefined ? { backup: resolvedPath(options, options.backup) } : {}),
        ...(options.to !== undefined ? { to: resolvedPath(options, options.to) } : {}),
      },
      runOptions,
    ),
  );
}
