import type { Config } from '../config.js';
import { healthRecordsV5 } from '../plans/health-records-v5/index.js';
import type { MigrationUnit } from '../plans/unit.js';
import { createContext, type RunOptions } from './context.js';
import { finishRun } from './finish.js';
import { runSteps } from './run.js';
import { preflightStep } from './steps/preflight.js';
import type { RunResult } from './types.js';

/** `dbshift plan`: the preflight alone. Reads the source, writes nothing. */
export async function plan(config: Config, options: RunOptions = {}, unit: MigrationUnit = healthRecordsV5): Promise<RunResult> {
  const started = performance.now();
  const ctx = createContext(config, unit, { ...options, strict: false }, { workDir: config.instanceDir, backupDir: config.backupDir });
  const outcome = await runSteps([preflightStep], ctx);
  const result = finishRun(ctx, 'plan', outcome, outcome.error ? 'failed' : outcome.stoppedEarly ? 'nothing-to-do' : 'planned', started);
  if (ctx.plan) {
    result.plan = {
      statements: [...ctx.plan.schema, ...ctx.plan.backfill.map((b) => b.sql.replace(/\s+/g, ' ')), ...ctx.plan.finish],
      spaceNeeded: ctx.spaceNeeded,
    };
  }
  return result;
}
