import { plan as runPlan } from '../pipeline/plan.js';
import type { RunResult } from '../pipeline/types.js';
import type { PipelineOptions, Settled } from './options.js';
import { runPipeline } from './pipeline.js';

/** `dbshift plan`: the preflight alone; writes nothing. The result's `plan` holds the statements and the space needed. */
export function plan(options: PipelineOptions = {}): Promise<Settled<RunResult>> {
  return runPipeline('plan', options, (config, runOptions) => runPlan(config, runOptions));
}
