import { runTarget, type ChangeOptions, type MigrationsResult } from './versioned.js';
import type { Settled } from './options.js';

export interface UpOptions extends ChangeOptions {
  /** Apply at most this many pending migrations (default: all). */
  count?: number;
  /** Create the database file if it does not exist yet (a brand-new schema). */
  create?: boolean;
}

/** `dbshift up`: apply pending migrations, each in one transaction with its bookkeeping; backup first. */
export function up(options: UpOptions = {}): Promise<Settled<MigrationsResult>> {
  return runTarget('up', { kind: 'up', ...(options.count !== undefined ? { count: options.count } : {}) }, options);
}
