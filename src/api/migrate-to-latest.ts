import { runTarget, type ChangeOptions, type MigrationsResult } from './versioned.js';
import type { Settled } from './options.js';

export interface MigrateToLatestOptions extends ChangeOptions {
  /** The SQLite database; created (empty) if it does not exist yet. */
  database: string;
  /** How long to wait for another instance that is migrating the same database, in ms (default 60000). */
  wait?: number;
}

/** How long app instances that start together wait for the one that migrates. */
const DEFAULT_WAIT_MS = 60_000;

/**
 * At app start: apply every pending migration. When several instances start at once, one takes
 * the lock and migrates; the others wait for it (up to `wait`) and then find nothing to do.
 */
export function migrateToLatest(options: MigrateToLatestOptions): Promise<Settled<MigrationsResult>> {
  return runTarget('up', { kind: 'up' }, { ...options, wait: options.wait ?? DEFAULT_WAIT_MS, create: true });
}
