import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config.js';
import { writeFileExclusive } from '../files/create.js';
import { linkNotice, publishTarget, type PublishTarget } from '../files/target-link.js';
import { healthRecordsV5 } from '../plans/health-records-v5/index.js';
import type { MigrationUnit } from '../plans/unit.js';
import { createContext, type RunOptions } from './context.js';
import { finishRun } from './finish.js';
import { Pipeline, runSteps } from './run.js';
import { backupStep } from './steps/backup.js';
import { lockStep } from './steps/lock.js';
import { preflightStep } from './steps/preflight.js';
import { publishStep } from './steps/publish.js';
import { snapshotStep } from './steps/snapshot.js';
import { transformStep } from './steps/transform.js';
import { verifyStep } from './steps/verify.js';
import type { RunResult } from './types.js';

/**
 * The steps of a migration, in order. Adding a step is one file plus one line here; each step
 * takes what earlier ones return, checked by the compiler. The backup step comes after the
 * build because the backup's hash and fsync run beside it; the backup is named before verify.
 */
export function migrateSteps(preflight = preflightStep({ collectWarnings: 'when-strict', awaitChecks: false })) {
  return Pipeline.start()
    .then(preflight)
    .then(lockStep)
    .then(snapshotStep)
    .then(transformStep)
    .then(backupStep)
    .then(verifyStep)
    .then(publishStep);
}

/**
 * `dbshift migrate`: preflight → lock → snapshot → transform (the build) → backup → verify → publish.
 * Never throws: every outcome, including failures, is a RunResult.
 */
export async function migrate(config: Config, options: RunOptions = {}, unit: MigrationUnit = healthRecordsV5): Promise<RunResult> {
  const started = performance.now();
  // A rehearsal does all the work in a private throw-away directory and never touches instance/ or backups/.
  const rehearsalDir = options.rehearse ? fs.mkdtempSync(path.join(os.tmpdir(), 'dbshift-rehearsal-')) : undefined;
  // A target that is a symlink: publish at its real file, in that file's directory (see target-link.ts).
  let target: PublishTarget = { path: config.targetDb };
  let refused: unknown;
  try {
    if (!rehearsalDir) target = publishTarget(config.targetDb);
  } catch (error) {
    refused = error;
  }
  const ctx = createContext({ ...config, targetDb: target.path }, unit, { ...options, record: !options.rehearse }, {
    workDir: rehearsalDir ?? (target.link ? path.dirname(target.path) : config.instanceDir),
    backupDir: rehearsalDir ?? config.backupDir,
  });
  ctx.report.notices.push(...linkNotice(target));
  // A broken link is refused as the first act of preflight, before any work.
  const steps = refused === undefined ? migrateSteps() : migrateSteps({ name: 'preflight', run: async () => Promise.reject(refused) });
  const outcome = await runSteps(steps, ctx);
  const status = outcome.error ? 'failed' : outcome.stoppedEarly ? 'nothing-to-do' : options.rehearse ? 'rehearsed' : 'migrated';
  const result = finishRun(ctx, 'migrate', outcome, status, started);
  if (rehearsalDir) fs.rmSync(rehearsalDir, { recursive: true, force: true });
  const { reportPath } = ctx.report;
  if (reportPath) {
    // The JSON record of every run that got as far as writing anything, success or failure.
    try {
      result.reportPath = reportPath;
      writeFileExclusive(reportPath, JSON.stringify(result, null, 2) + '\n');
    } catch (error) {
      delete result.reportPath;
      result.notices.push(`Could not write the JSON record: ${(error as Error).message}`);
    }
  }
  ctx.lock?.release();
  return result;
}
