import { runTarget, type ChangeOptions, type MigrationsResult } from './versioned.js';
import type { Settled } from './options.js';

export interface GotoOptions extends ChangeOptions {
  /** The version to end at (0: nothing applied). */
  version: number;
}

/** `dbshift goto V`: migrate up or down until the database is at version V; backup first. */
export function goto(options: GotoOptions): Promise<Settled<MigrationsResult>> {
  return runTarget('goto', { kind: 'goto', version: options.version }, options);
}
