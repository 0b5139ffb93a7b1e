import path from 'node:path';
import type { Config } from '../config.js';
import { sha256File } from '../files/checksum.js';
import { createEmptyExclusive } from '../files/create.js';
import { healthRecordsV5 } from '../plans/health-records-v5/index.js';
import { snapshotDatabase } from '../sqlite/snapshot.js';
import { createContext, type RunOptions } from './context.js';
import { finishRun } from './finish.js';
import { runSteps, type Step } from './run.js';
import { finishBackup, reserveBackup } from './backup-files.js';
import { toToolError } from '../errors.js';
import { lockStep } from './steps/lock.js';
import { assertSourceIntact, openSourceForReading } from './source-access.js';
import type { RunResult } from './types.js';
import type { Db } from '../sqlite/open.js';

/** `dbshift backup`: a timestamped, checksummed backup of the source (`<name>_backup_<stamp>.db`), taken with the online backup API. */
export async function backupOnly(config: Config, options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  // Any SQLite file may be backed up: the lock goes beside it (as the engine's does), nothing is
  // created in instance/, and the output names the source and the backup directory it used.
  const ctx = createContext({ ...config, targetDb: config.backupDir }, healthRecordsV5, options, { workDir: path.dirname(config.sourceDb), backupDir: config.backupDir });
  const check: Step = {
    name: 'preflight',
    async run() {
      sourceDb = openSourceForReading(ctx).db;
      assertSourceIntact(ctx, sourceDb);
      return { status: 'ok' };
    },
  };
  let sourceDb: Db | undefined;
  const backup: Step = {
    name: 'backup',
    async run() {
      const { partial, final } = reserveBackup(ctx, ctx.source);
      createEmptyExclusive(partial);
      try {
        await snapshotDatabase(
          sourceDb!,
          partial,
          (done, total) => ctx.emit({ step: 'backup', phase: 'progress', done, total, unit: 'pages' }),
          () => ctx.checkpoint('backup-pages'),
        );
      } catch (error) {
        throw toToolError(error, partial);
      }
      // Hashed from what lies on disk after SQLite wrote and fsynced it: the read-back check.
      ctx.report.backup = finishBackup(ctx, partial, final, await sha256File(partial));
      return { status: 'ok', detail: ctx.report.backup.path };
    },
  };
  const outcome = await runSteps([check, lockStep, backup], ctx);
  const result = finishRun(ctx, 'backup', outcome, outcome.error ? 'failed' : 'backed-up', started);
  ctx.lock?.release();
  return result;
}
