import { InternalError, InterruptedError, toToolError, type ToolError } from '../errors.js';
import type { RunContext } from './context.js';
import type { StepName, StepResult } from './types.js';

export type StepOutcome<Out = object> = { status: 'ok' | 'skipped'; detail?: string; stop?: 'nothing-to-do' } & (object extends Out ? { out?: Out } : { out: Out });

/**
 * A step takes what earlier steps produced (`In`) and returns what it produces (`Out`); the
 * pipeline checks at compile time that every step's input is produced before it runs.
 */
export interface Step<In = object, Out = object> {
  name: StepName;
  run(ctx: RunContext, input: In): Promise<StepOutcome<Out>>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStep = Step<any, any>;

/** An ordered list of steps whose inputs and outputs fit together; `S` is what they produce in all. */
export class Pipeline<S extends object> {
  private constructor(readonly steps: AnyStep[]) {}

  static start(): Pipeline<object> {
    return new Pipeline<object>([]);
  }

  then<In, Out extends object>(step: S extends In ? Step<In, Out> : never): Pipeline<S & Out> {
    return new Pipeline<S & Out>([...this.steps, step as AnyStep]);
  }
}

export interface StepsOutcome<S> {
  steps: StepResult[];
  /** What the steps that ran produced (everything, when the run got through). */
  state: Partial<S>;
  error?: ToolError;
  stoppedEarly?: 'nothing-to-do';
}

/**
 * Run steps in order. Every planned step appears in the result: not-run until it runs,
 * skipped after an early stop, failed at the first error (which ends the run).
 */
export async function runSteps<S extends object>(pipeline: Pipeline<S> | Step[], ctx: RunContext): Promise<StepsOutcome<S>> {
  const steps: AnyStep[] = Array.isArray(pipeline) ? pipeline : pipeline.steps;
  const results: StepResult[] = steps.map((s) => ({ name: s.name, status: 'not-run', ms: 0 }));
  let state: Record<string, unknown> = {};
  for (const [i, step] of steps.entries()) {
    const result = results[i] as StepResult;
    const started = performance.now();
    ctx.emit({ step: step.name, phase: 'start' });
    try {
      ctx.checkpoint(`before-${step.name}`);
      const outcome = await step.run(ctx, state);
      state = { ...state, ...(outcome.out ?? {}) };
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
        return { steps: results, state: state as Partial<S>, stoppedEarly: outcome.stop };
      }
    } catch (error) {
      result.status = 'failed';
      result.ms = Math.round(performance.now() - started);
      let toolError = toToolError(error);
      // After Ctrl-C, what fails next is the stop itself (a worker or a file closed under a
      // step's feet), not a finding about the data: the operator gets the interruption, 130.
      if (ctx.options.signal?.aborted && !(toolError instanceof InterruptedError)) {
        toolError = new InterruptedError('interrupted', 'Interrupted.', {
          hint: 'Run the same command again when ready.',
          ...(toolError.dataState ? { dataState: toolError.dataState } : {}),
          cause: error,
        });
      }
      if (toolError instanceof InternalError && error instanceof Error && error.stack) {
        toolError.message += `\n${error.stack}`;
      }
      result.detail = toolError.message;
      ctx.emit({ step: step.name, phase: 'end', result });
      return { steps: results, state: state as Partial<S>, error: toolError };
    }
  }
  return { steps: results, state: state as Partial<S> };
}
