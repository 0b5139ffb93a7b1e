import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { MIGRATION_FILE } from '../engine/discover.js';
import { UsageError } from '../errors.js';

// To dbmate, Django and Rails users, `migrate` applies pending migrations (issue 14.6). When
// `dbshift migrate` finds no HealthSum source but a migrations directory, say what they meant.

/** Refuse `migrate` (64) in what looks like a versioned project; otherwise do nothing. */
export function assertNotVersionedProject(config: Config, cwd: string): void {
  if (fs.existsSync(config.sourceDb)) return;
  let files: string[];
  try {
    files = fs.readdirSync(config.migrationsDir).filter((name) => MIGRATION_FILE.test(name) && !name.endsWith('.md'));
  } catch {
    return;
  }
  if (files.length === 0) return;
  const dir = path.relative(cwd, config.migrationsDir) || '.';
  throw new UsageError('migrate-is-health-records', `\`dbshift migrate\` runs the HealthSum v5 migration, and there is no HealthSum source (${config.sourceDb}); ${dir}/ holds ${files.length} migration file(s).`, {
    hint: 'To apply pending migrations, run `dbshift up --database FILE` (or set DATABASE); `dbshift history` shows where it stands. For HealthSum, set SOURCE_DB to the live database.',
    dataState: 'Nothing was changed.',
  });
}
