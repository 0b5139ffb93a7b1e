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
import { runSteps } from './run.js';
import { backupStep } from './steps/backup.js';
import { lockStep } from './steps/lock.js';
import { preflightStep } from './steps/preflight.js';
import { publishStep } from './steps/publish.js';
import { snapshotStep } from './steps/snapshot.js';
import { transformStep } from './steps/transform.js';
import { verifyStep } from './steps/verify.js';
import type { RunResult } from './types.js';

/** The steps of a migration, in order. Adding a step is one file plus one line here. */
export const MIGRATE_STEPS = [preflightStep, lockStep, snapshotStep, backupStep, transformStep, verifyStep, publishStep];

/**
 * `dbshift migrate`: preflight → lock → snapshot → backup → transform → verify → publish.
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
  ctx.notices.push(...linkNotice(target));
  // A broken link is refused as the first act of preflight, before any work.
  const steps = refused === undefined ? MIGRATE_STEPS : [{ name: preflightStep.name, run: async () => Promise.reject(refused) }, ...MIGRATE_STEPS.slice(1)];
  const outcome = await runSteps(steps, ctx);
  const status = outcome.error ? 'failed' : outcome.stoppedEarly ? 'nothing-to-do' : options.rehearse ? 'rehearsed' : 'migrated';
  const result = finishRun(ctx, 'migrate', outcome, status, started);
  if (rehearsalDir) fs.rmSync(rehearsalDir, { recursive: true, force: true });
  if (ctx.reportPath) {
    // The JSON record of every run that got as far as writing anything, success or failure.
    try {
      result.reportPath = ctx.reportPath;
      writeFileExclusive(ctx.reportPath, JSON.stringify(result, null, 2) + '\n');
    } catch (error) {
      delete result.reportPath;
      result.notices.push(`Could not write the JSON record: ${(error as Error).message}`);
    }
  }
  ctx.lock?.release();
  return result;
}
