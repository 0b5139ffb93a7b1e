import { migrate as runMigrate } from '../pipeline/migrate.js';
import type { RunResult } from '../pipeline/types.js';
import { assertNotVersionedProject } from '../pipeline/versioned-project.js';
import type { PipelineOptions, Settled } from './options.js';
import { runPipeline } from './pipeline.js';

export interface MigrateOptions extends PipelineOptions {
  /** Treat any warning as fatal, before anything is written. */
  strict?: boolean;
  /** Run everything on a temporary copy, verify it, discard it and report timings. */
  rehearse?: boolean;
  /** `auto` (default): the old file itself becomes the backup when provably safe, else a copy; `copy`: always an independent copy. */
  backup?: 'auto' | 'copy';
}

/** `dbshift migrate`: the HealthSum v5 migration: preflight, lock, snapshot, backup, transform, verify, publish. */
export function migrate(options: MigrateOptions = {}): Promise<Settled<RunResult>> {
  return runPipeline('migrate', options, (config, runOptions) => {
    assertNotVersionedProject(config, options.cwd ?? process.cwd());
    return runMigrate(config, { ...runOptions, strict: !!options.strict, rehearse: !!options.rehearse, backup: options.backup ?? 'auto' });
  });
}
