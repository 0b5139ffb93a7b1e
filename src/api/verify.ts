import type { RunResult } from '../pipeline/types.js';
import { verifyDatabase } from '../pipeline/verify-database.js';
import type { PipelineOptions, Settled } from './options.js';
import { resolvedPath, runPipeline } from './pipeline.js';

export interface VerifyOptions extends PipelineOptions {
  /** The migrated database (default: `instance/health_records.db`). */
  database?: string;
  /** The pre-migration backup: also compare every pre-existing value with it. */
  against?: string;
}

/** `dbshift verify`: prove an already migrated database, optionally against its backup. Read-only. */
export function verify(options: VerifyOptions = {}): Promise<Settled<RunResult>> {
  return runPipeline('verify', options, (config, runOptions) =>
    verifyDatabase(
      config,
      {
        database: options.database !== undefined ? resolvedPath(options, options.database) : config.targetDb,
        ...(options.against !== undefined ? { against: resolvedPath(options, options.against) } : {}),
      },
      runOptions,
    ),
  );
}
