import { validateMigrations, type ValidateResult as EngineValidateResult } from '../engine/validate.js';
import type { CommandResult } from '../results.js';
import { withDatabase } from './database.js';
import { settle, type MigrationsOptions, placesOf, type Settled } from './options.js';

export interface ValidateOptions extends MigrationsOptions {
  /** Fail on warnings too (gaps, missing documents or down files, lint findings). */
  strict?: boolean;
}

export type ValidateResult = EngineValidateResult & CommandResult & { status: 'valid' | 'failed' };

/** `dbshift validate`: applied files unchanged and present, order, gaps, documents, down files, lint. */
export function validate(options: ValidateOptions = {}): Promise<Settled<ValidateResult>> {
  return settle(
    'validate',
    async () => {
      // A built-in set has no documents of its own to check.
      const docs = options.set === undefined;
      const result = await withDatabase(options, { command: 'validate', missingIsEmpty: true }, async (driver, loadSet) =>
        validateMigrations(driver, await loadSet(), { strict: !!options.strict, docs }),
      );
      return { ...result, status: result.ok ? ('valid' as const) : ('failed' as const) };
    },
    (error) => ({ ok: false, command: 'validate' as const, status: 'failed' as const, ...placesOf(options), count: 0, errors: [], warnings: [], error }),
  );
}
