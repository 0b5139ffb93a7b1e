import fs from 'node:fs';
import type { Config } from '../config.js';
import { ConfigError, InputError } from '../errors.js';
import { verifyChecksum } from '../files/checksum.js';
import { checksumPathFor } from '../files/checksum.js';
import { healthRecordsV5 } from '../plans/health-records-v5/index.js';
import type { MigrationUnit } from '../plans/unit.js';
import { assertSqliteFile, foreignKeyViolations } from '../sqlite/checks.js';
import { openReadonly } from '../sqlite/open.js';
import { createContext, type RunOptions } from './context.js';
import { finishRun } from './finish.js';
import { runSteps, type Step } from './run.js';
import { requireSecretKey } from './steps/preflight.js';
import type { RunResult } from './types.js';
import { assertAllPassed, foreignKeyWarnings, verifyMigrated } from './verification.js';

export interface VerifyTargets {
  database: string;
  /** A backup of the same database from before the migration: enables the full comparison. */
  against?: string;
}

const READ_ONLY = 'Nothing was changed: verify only reads.';

/** `dbshift verify`: prove an already migrated database, optionally against its backup. Read-only. */
export async function verifyDatabase(config: Config, targets: VerifyTargets, options: RunOptions = {}, unit: MigrationUnit = healthRecordsV5): Promise<RunResult> {
  const started = performance.now();
  const ctx = createContext({ ...config, sourceDb: targets.database }, unit, options, { workDir: config.instanceDir, backupDir: config.backupDir });
  const step: Step = {
    name: 'verify',
    async run() {
      requireSecretKey(config.secretKey);
      assertSqliteFile(targets.database);
      let foreignKeysBefore;
      let before;
      if (targets.against) {
        if (!fs.existsSync(targets.against)) throw new InputError('backup-missing', `${targets.against} does not exist.`, { dataState: READ_ONLY });
        if (fs.existsSync(checksumPathFor(targets.against))) {
          ctx.backup = { path: targets.against, sha256: await verifyChecksum(targets.against) };
        } else {
          ctx.notices.push(`${targets.against} has no .sha256 file; its integrity was not checked.`);
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
      ctx.inspection = inspection;
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
      ctx.checks.push(...result.checks);
      ctx.countsBefore = targets.against ? result.countsBefore : result.countsAfter;
      ctx.countsAfter = result.countsAfter;
      ctx.summary = result.summary;
      if (!targets.against) ctx.warnings = foreignKeyWarnings(result.foreignKeyViolations, '');
      assertAllPassed(ctx.checks, READ_ONLY);
      return { status: 'ok', detail: `${ctx.checks.length} checks passed` };
    },
  };
  const outcome = await runSteps([step], ctx);
  return finishRun(ctx, 'verify', outcome, outcome.error ? 'failed' : 'verified', started);
}
