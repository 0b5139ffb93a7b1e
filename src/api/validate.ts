import { validateWithDriver } from '../engine/drive.js';
import { validateMigrations, type ValidateResult as EngineValidateResult } from '../engine/validate.js';
import type { CommandResult } from '../results.js';
import { configOf, engineConfigOf, migrationSetOf, settle, type MigrationsOptions, placesOf, type Settled } from './options.js';
import { postgresUrlOf, withPostgres } from './postgres.js';

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
      const config = configOf(options);
      const url = postgresUrlOf(config);
      if (url) {
        const result = await withPostgres(url, config, options, async (driver, loadSet) => validateWithDriver(driver, await loadSet(), { strict: !!options.strict }));
        return { ...result, status: result.ok ? ('valid' as const) : ('failed' as const) };
      }
      // A built-in set has no documents of its own to check.
      const result = validateMigrations(engineConfigOf(config), await migrationSetOf(config, options.set), { strict: !!options.strict, docs: options.set === undefined });
      return { ...result, status: result.ok ? ('valid' as const) : ('failed' as const) };
    },
    (error) => ({ ok: false, command: 'validate' as const, status: 'failed' as const, ...placesOf(options), count: 0, errors: [], warnings: [], error }),
  );
}
