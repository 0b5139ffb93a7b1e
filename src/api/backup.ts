import { backupOnly } from '../pipeline/backup-only.js';
import type { RunResult } from '../pipeline/types.js';
import type { PipelineOptions, Settled } from './options.js';
import { runPipeline } from './pipeline.js';

/** `dbshift backup`: a timestamped, checksummed backup of `source` alone (SQLite's online backup API). */
export function backup(options: PipelineOptions = {}): Promise<Settled<RunResult>> {
  return runPipeline('backup', options, (config, runOptions) => backupOnly(config, runOptions));
}
