import fs from 'node:fs';
import type { Config } from '../config.js';
import { ConfigError, DataError, InputError } from '../errors.js';
import { verifyChecksum } from '../files/checksum.js';
import { checksumPathFor } from '../files/checksum.js';
import { healthRecordsV5 } from '../plans/health-records-v5/index.js';
import type { MigrationSet } from '../engine/types.js';
import type { Inspection, MigrationUnit } from '../plans/unit.js';
import { assertSqliteFile, foreignKeyViolations } from '../sqlite/checks.js';
import { openReadonly } from '../sqlite/open.js';
import { createContext, type RunContext, type RunOptions } from './context.js';
import { databaseChecks } from './database-checks.js';
import { finishRun } from './finish.js';
import { runSteps, type Step, type StepOutcome } from './run.js';
import { requireSecretKey } from './source-access.js';
import type { RunResult } from './types.js';
import { assertAllPassed, foreignKeyWarnings, verifyMigrated } from './verification.js';

export interface VerifyTargets {
  database: string;
  /** A backup of the same database from before the migration: enables the full comparison. */
  against?: string;
  /** The versioned migrations: applied ones are checked against their files' checksums. */
  migrations?: MigrationSet;
}

const READ_ONLY = 'Nothing was changed: verify only reads.';

/** `dbshift verify`: prove an already migrated database, optionally against its backup. Read-only. */
export async function verifyDatabase(config: Config, targets: VerifyTargets, options: RunOptions = {}, unit: MigrationUnit = healthRecordsV5): Promise<RunResult> {
  const started = performance.now();
  // The output names the database verified, not migrate's default target.
  const ctx = createContext({ ...config, sourceDb: targets.database, targetDb: targets.database }, unit, options, { workDir: config.instanceDir, backupDir: config.backupDir });
  const step: Step = {
    name: 'verify',
    async run() {
      assertSqliteFile(targets.database);
      const schema = inspectOnly(targets.database, config.busyTimeoutMs, unit);
      if (schema.state !== 'v5') return verifyOther(ctx, targets, schema, config.busyTimeoutMs);
      requireSecretKey(config.secretKey);
      let foreignKeysBefore;
      let before;
      if (targets.against) {
        if (!fs.existsSync(targets.against)) throw new InputError('backup-missing', `${targets.against} does not exist.`, { dataState: READ_ONLY });
        if (fs.existsSync(checksumPathFor(targets.against))) {
          ctx.report.backup = { path: targets.against, sha256: await verifyChecksum(targets.against) };
        } else {
          ctx.report.notices.push(`${targets.against} has no .sha256 file; its integrity was not checked.`);
        }
        const baseline = openReadonly(targets.against, config.busyTimeoutMs);
        try {
          unit.prepare(baseline);
          before = unit.inspect(baseline);
          foreignKeysBefore = foreignKeyViolations(baseline);
        } finally {
          baseline.close();
        }
      }
      const db = openReadonly(targets.database, config.busyTimeoutMs);
      ctx.cleanups.push(() => db.close());
      unit.prepare(db);
      const inspection = unit.inspect(db);
      ctx.report.inspection = inspection;
      const key = unit.checkSecretKey?.(db, config.secretKey);
      if (key && key.opened < key.sampled) {
        throw new ConfigError('secret-key-wrong', `SECRET_KEY opens ${key.opened} of ${key.sampled} sampled encrypted values of ${targets.database}.`, {
          hint: 'Use the production SECRET_KEY: the app could not read its data with this one.',
          dataState: READ_ONLY,
        });
      }
      if (targets.against) db.prepare('ATTACH DATABASE ? AS baseline').run(targets.against);
      const result = await verifyMigrated(db, unit, {
        before: before ?? inspection,
        ...(targets.against ? { baseline: 'baseline', foreignKeysBefore: foreignKeysBefore ?? [] } : {}),
        onRows: async (done, total) => {
          ctx.emit({ step: 'verify', phase: 'progress', done, total, unit: 'rows' });
          ctx.checkpoint('verify-rows');
        },
      });
      ctx.report.checks.push(...result.checks);
      ctx.report.countsBefore = targets.against ? result.countsBefore : result.countsAfter;
      ctx.report.countsAfter = result.countsAfter;
      ctx.report.summary = result.summary;
      if (!targets.against) ctx.report.warnings = foreignKeyWarnings(result.foreignKeyViolations, '');
      assertAllPassed(ctx.report.checks, READ_ONLY);
      return { status: 'ok', detail: `${ctx.report.checks.length} checks passed` };
    },
  };
  const outcome = await runSteps([step], ctx);
  return finishRun(ctx, 'verify', outcome, outcome.error ? 'failed' : 'verified', started);
}

function inspectOnly(database: string, busyTimeoutMs: number, unit: MigrationUnit): Inspection {
  const db = openReadonly(database, busyTimeoutMs);
  try {
    unit.prepare(db);
    return unit.inspect(db);
  } finally {
    db.close();
  }
}

/**
 * A database that is not (yet) v5: what applies to any SQLite database is checked. One that is
 * pre-v5 or half-way is not a failed migration but one still to run: the hint says `migrate`.
 */
async function verifyOther(ctx: RunContext, targets: VerifyTargets, schema: Inspection, busyTimeoutMs: number): Promise<StepOutcome> {
  const db = openReadonly(targets.database, busyTimeoutMs);
  try {
    ctx.report.inspection = schema;
    const { checks, counts } = databaseChecks(db, targets.migrations);
    ctx.report.checks.push(...checks);
    ctx.report.countsBefore = counts;
    ctx.report.countsAfter = counts;
  } finally {
    db.close();
  }
  if (schema.state === 'pre-v5' || schema.state === 'partial') {
    throw new DataError('not-migrated', `${targets.database}: the schema state is ${schema.state}: ${schema.state === 'pre-v5' ? 'this HealthSum database has not been migrated to v5 yet' : 'the v5 migration is only partly done'}.`, {
      hint: `Run \`dbshift plan --source ${targets.database}\` to see what will change, then \`dbshift migrate --source ${targets.database}\`.`,
      dataState: READ_ONLY,
    });
  }
  const failed = ctx.report.checks.filter((c) => !c.ok);
  if (failed.length > 0) {
    throw new DataError('verification-failed', `${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}.`, {
      hint: failed.some((c) => c.name === 'schema_migrations')
        ? 'Finish or undo the failed migration by hand, then `dbshift force V`.'
        : failed.some((c) => c.name === 'applied migrations unchanged')
          ? 'Restore the applied migration files from version control.'
          : 'Restore the database from a backup (`dbshift backups`), or repair the rows named.',
      dataState: READ_ONLY,
    });
  }
  return { status: 'ok', detail: `${ctx.report.checks.length} checks passed (not a HealthSum v5 database: the v5 checks do not apply)` };
}
