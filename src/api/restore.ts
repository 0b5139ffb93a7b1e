import { restore as runRestore } from '../pipeline/restore.js';
import type { RunResult } from '../pipeline/types.js';
import type { PipelineOptions, Settled } from './options.js';
import { databasePath, resolvedPath, runPipeline } from './pipeline.js';

export interface RestoreOptions extends PipelineOptions {
  /** The backup to restore (default: the target's newest verified backup, e.g. app_backup_* for app.db). */
  backup?: string;
  /** Where to restore it: a path, sqlite://path or file:path (default: `instance/health_records.db`). */
  to?: string;
}

/** `dbshift restore`: check the backup (SHA-256, quick_check), keep the current file in the backups, put the backup in place atomically. */
export function restore(options: RestoreOptions = {}): Promise<Settled<RunResult>> {
  return runPipeline('restore', options, (config, runOptions) =>
    runRestore(
      config,
      {
        ...(options.backup !== undefined ? { backup: resolvedPath(options, options.backup) } : {}),
        to: databasePath(options, config, options.to, 'to'),
      },
      runOptions,
    ),
  );
}
