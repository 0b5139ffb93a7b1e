import type { Config } from '../config.js';
import { healthRecordsV5 } from '../plans/health-records-v5/index.js';
import type { MigrationUnit } from '../plans/unit.js';
import { createContext, type RunOptions } from './context.js';
import { finishRun } from './finish.js';
import { Pipeline, runSteps } from './run.js';
import { describeBaseline } from '../sqlite/introspect.js';
import { preflightStep } from './steps/preflight.js';
import type { RunResult } from './types.js';

/** `dbshift plan`: the preflight alone (warnings and quick_check included), and the build's statements. Reads the source, writes nothing. */
export async function plan(config: Config, options: RunOptions = {}, unit: MigrationUnit = healthRecordsV5): Promise<RunResult> {
  const started = performance.now();
  const ctx = createContext(config, unit, { ...options, strict: false }, { workDir: config.instanceDir, backupDir: config.backupDir });
  const outcome = await runSteps(Pipeline.start().then(preflightStep({ collectWarnings: 'always', awaitChecks: true })), ctx);
  const { sourceDb, inspection } = outcome.state;
  if (ctx.report.plan && sourceDb && inspection) {
    const build = ctx.unit.build.plan(describeBaseline(sourceDb), inspection, { runDate: ctx.runDate });
    ctx.report.plan.statements = [...build.tables, ...build.copies.map((c) => c.sql.replace(/\s+/g, ' ')), ...build.indexes, ...build.finish];
    ctx.report.plan.triggers = build.triggers;
  }
  const result = finishRun(ctx, 'plan', outcome, outcome.error ? 'failed' : outcome.stoppedEarly ? 'nothing-to-do' : 'planned', started);
  if (ctx.report.plan) result.plan = ctx.report.plan;
  return result;
}
