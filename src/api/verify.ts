import { parseDirectoryArgument } from '../database-url.js';
import { loadMigrationDir } from '../engine/discover.js';
import type { RunResult } from '../pipeline/types.js';
import { verifyDatabase } from '../pipeline/verify-database.js';
import type { PipelineOptions, Settled } from './options.js';
import { databasePath, resolvedPath, runPipeline } from './pipeline.js';

export interface VerifyOptions extends PipelineOptions {
  /** The migrated database (default: `instance/health_records.db`). */
  database?: string;
  /** The pre-migration backup: also compare every pre-existing value with it (v5 databases). */
  against?: string;
  /** A migrations directory (a path or file://path): check that the applied migrations' files are unchanged. */
  dir?: string;
}

/**
 * `dbshift verify`: verify a database, read-only: a v5 HealthSum database fully (with
 * `against`, every pre-existing value against the backup); any other: integrity, foreign
 * keys, schema_migrations and (with `dir`) the applied migrations' checksums.
 */
export function verify(options: VerifyOptions = {}): Promise<Settled<RunResult>> {
  return runPipeline('verify', options, async (config, runOptions) =>
    verifyDatabase(
      config,
      {
        database: databasePath(options, config, options.database, 'database'),
        ...(options.against !== undefined ? { against: resolvedPath(options, options.against) } : {}),
        ...(options.dir !== undefined ? { migrations: await loadMigrationDir(parseDirectoryArgument(options.dir, options.cwd ?? process.cwd(), 'dir')) } : {}),
      },
      runOptions,
    ),
  );
}
