import { InternalError, toToolError, type ToolError } from '../errors.js';
import type { RunContext } from './context.js';
import type { StepName, StepResult } from './types.js';

export type StepOutcome = { status: 'ok' | 'skipped'; detail?: string; stop?: 'nothing-to-do' };

export interface Step {
  name: StepName;
  run(ctx: RunContext): Promise<StepOutcome>;
}

export interface StepsOutcome {
  steps: StepResult[];
  error?: ToolError;
  stoppedEarly?: 'nothing-to-do';
}

/**
 * Run steps in order. Every planned step appears in the result: not-run until it runs,
 * skipped after an early stop, failed at the first error (which ends the run).
 */
export async function runSteps(steps: Step[], ctx: RunContext): Promise<StepsOutcome> {
  const results: StepResult[] = steps.map((s) => ({ name: s.name, status: 'not-run', ms: 0 }));
  for (const [i, step] of steps.entries()) {
    const result = results[i] as StepResult;
    const started = performance.now();
    ctx.emit({ step: step.name, phase: 'start' });
    try {
      ctx.checkpoint(`before-${step.name}`);
      const outcome = await step.run(ctx);
      ctx.checkpoint(`after-${step.name}`);
      result.status = outcome.status;
      if (outcome.detail) result.detail = outcome.detail;
      result.ms = Math.round(performance.now() - started);
      ctx.emit({ step: step.name, phase: 'end', result });
      if (outcome.stop) {
        for (const later of results.slice(i + 1)) {
          later.status = 'skipped';
          later.detail = outcome.stop;
        }
        return { steps: results, stoppedEarly: outcome.stop };
      }
    } catch (error) {
      result.status = 'failed';
      result.ms = Math.round(performance.now() - started);
      const toolError = toToolError(error);
      if (toolError instanceof InternalError && error instanceof Error && error.stack) {
        toolError.message += `\n${error.stack}`;
      }
      result.detail = toolError.message;
      ctx.emit({ step: step.name, phase: 'end', result });
      return { steps: results, error: toolError };
    }
  }
  return { steps: results };
}
