import type { ToolError } from '../errors.js';
import { tableCounts, type RunContext } from './context.js';
import type { StepsOutcome } from './run.js';
import type { RunResult, RunStatus } from './types.js';

/**
 * Close and clean up after a run, whatever happened, and turn the context into a RunResult.
 * Cleanups remove only what this run created and did not publish.
 */
export function finishRun(ctx: RunContext, command: string, outcome: StepsOutcome<object>, status: RunStatus, started: number): RunResult {
  for (const cleanup of ctx.cleanups.reverse()) {
    try {
      cleanup();
    } catch (error) {
      ctx.report.notices.push(`Cleanup failed: ${(error as Error).message}`);
    }
  }
  const { report } = ctx;
  const countsAfter = outcome.stoppedEarly ? report.countsBefore : report.countsAfter;
  const result: RunResult = {
    ok: !outcome.error,
    command,
    status,
    schemaState: report.inspection?.state ?? 'not-inspected',
    steps: outcome.steps,
    counts: tableCounts(report.countsBefore, countsAfter),
    warnings: report.warnings,
    backup: report.backup ?? null,
    target: ctx.config.targetDb,
    checks: report.checks,
    notices: report.notices,
    source: ctx.source,
    runAt: ctx.runDate.toISOString(),
    totalMs: Math.round(performance.now() - started),
  };
  if (report.summary !== undefined) result.summary = report.summary;
  if (report.backupRoute) result.backupRoute = report.backupRoute;
  if (outcome.error) result.error = describeError(outcome.error, ctx);
  return result;
}

function describeError(error: ToolError, ctx: RunContext): NonNullable<RunResult['error']> {
  const backupNote = ctx.report.backup
    ? ` The backup ${ctx.report.backup.path} is complete and kept.`
    : ctx.report.backupRoute?.route === 'old-file'
      ? ' No backup was needed, so none was made: the old file was to become the backup at publish.'
      : '';
  return {
    code: error.code,
    message: error.message,
    ...(error.hint ? { hint: error.hint } : {}),
    dataState: (error.dataState ?? 'Nothing was published; the production database was not touched.') + backupNote,
    exitCode: error.exitCode,
  };
}
