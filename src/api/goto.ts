import { runTarget, type ChangeOptions, type MigrationsResult } from './versioned.js';
import type { Settled } from './options.js';

export interface GotoOptions extends ChangeOptions {
  /** The version to end at: a number (0: nothing applied, needs `all`), a file stem (`000002_add_tasks`) or a name (`add_tasks`). */
  version: number | string;
  /** Allow going all the way down to version 0. */
  all?: boolean;
}

/** `dbshift goto V`: migrate up or down until the database is at version V; backup first. */
export function goto(options: GotoOptions): Promise<Settled<MigrationsResult>> {
  return runTarget('goto', { kind: 'goto', version: options.version, all: !!options.all }, options);
}
