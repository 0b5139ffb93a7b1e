import { runTarget, type ChangeOptions, type MigrationsResult } from './versioned.js';
import type { Settled } from './options.js';

export interface DownOptions extends ChangeOptions {
  /** Revert this many applied migrations, newest first (default 1). */
  count?: number;
  /** Revert every applied migration (back to an empty schema history). */
  all?: boolean;
}

/** `dbshift down`: revert applied migrations, newest first; backup first. */
export function down(options: DownOptions = {}): Promise<Settled<MigrationsResult>> {
  return runTarget('down', { kind: 'down', all: !!options.all, ...(options.count !== undefined ? { count: options.count } : {}) }, options);
}
