import { asViolations, checkComplaints } from '../../sqlite/checks.js';
import { inBackground } from '../../sqlite/background.js';
import { assertAllPassed, verifyMigrated } from '../verification.js';
import type { Step } from '../run.js';
import type { BackupOut, PreflightOut, SnapshotOut, TransformOut } from '../step-data.js';
import { sourceChanged } from '../source-access.js';
import type { ComparisonHelper, JobResult } from '../../sqlite/compare.js';

type ComparisonJobDone = (index: number, result: JobResult) => void;

const NOT_PUBLISHED = 'Nothing was published; the production database was not touched.';

/**
 * Prove the work file against the pristine baseline before it can go live: the backup on the
 * copy routes, the held source itself on the old-file route (the same bytes the backup is). The comparison of
 * every value runs here while a worker thread runs integrity_check and foreign_key_check of
 * the same file on the other core; once done with those, the worker takes its share of the
 * comparison's row ranges off the same queue, on its own read-only connection.
 */
export const verifyStep: Step<PreflightOut & SnapshotOut & TransformOut & BackupOut> = {
  name: 'verify',
  async run(ctx, { workDb: db, workFile, baseline, inspection, foreignKeysBefore, rowsScanned, snapshot }) {
    ctx.emit({ step: 'verify', phase: 'progress', done: 0, total: 1, unit: 'steps', label: 'integrity_check (worker) and comparison' });
    const counts = ctx.unit.rowCounts?.();
    let checked: (rows: unknown[][]) => void = () => {};
    const checkedRows = new Promise<unknown[][]>((resolve) => (checked = resolve));
    let jobDone: ComparisonJobDone = () => {};
    const worker = inBackground<unknown[][]>(
      {
        kind: 'pragma',
        file: workFile,
        pragmas: ['integrity_check', 'foreign_key_check'],
        compare: { baseline, setup: counts?.setup ?? [], ...(ctx.unit.prepareIn ? { functions: ctx.unit.prepareIn } : {}) },
      },
      undefined,
      (data) => {
        const message = data as { pragmas?: unknown[][]; job?: number; result?: JobResult };
        if (message.pragmas) return checked(message.pragmas);
        jobDone(message.job as number, message.result as JobResult);
        ctx.checkpoint('verify-rows');
      },
    );
    ctx.cleanups.push(() => worker.cancel());
    // The worker posts its checks' rows before it takes comparison jobs; if it fails first, its error ends the wait.
    const structural = Promise.race([checkedRows, worker.result]);
    structural.catch(() => {});
    const helper: ComparisonHelper = (work, onResult) => {
      jobDone = onResult;
      worker.post(work);
      return worker.result.then(() => undefined);
    };
    // The comparison reads in order: the build's cache goes back to the allocator for its pages.
    db.pragma('cache_size = -2000');
    db.pragma('shrink_memory');
    db.prepare('ATTACH DATABASE ? AS baseline').run(baseline);
    db.pragma('baseline.cache_size = -2000');
    try {
      const result = await verifyMigrated(db, ctx.unit, {
        before: inspection,
        baseline: 'baseline',
        foreignKeysBefore,
        // Belt and braces: nothing in verification may write, least of all the backup.
        queryOnly: true,
        onRows: async (done, total) => {
          ctx.emit({ step: 'verify', phase: 'progress', done, total, unit: 'rows', label: 'comparison' });
          ctx.checkpoint('verify-rows');
        },
        background: { integrity: structural.then(([rows = []]) => checkComplaints(rows)), foreignKeys: structural.then(([, rows = []]) => asViolations(rows)) },
        helper,
      });
      ctx.report.checks = result.checks;
      ctx.report.countsAfter = result.countsAfter;
      // The comparison counted the baseline's rows as it read them: the counts preflight left to it.
      if (!rowsScanned) ctx.report.countsBefore = { ...result.countsBefore, ...ctx.report.countsBefore };
      ctx.report.summary = result.summary;
      // On the old-file route the baseline is the live path: a WAL commit that landed meanwhile
      // is what a difference would then be about, and is said as such (publish would refuse it too).
      const changed = snapshot.hold?.changed();
      if (changed) throw sourceChanged(ctx, changed, NOT_PUBLISHED);
      assertAllPassed(result.checks, NOT_PUBLISHED);
      return { status: 'ok', detail: `${result.checks.length} checks passed` };
    } finally {
      db.pragma('query_only = OFF');
      db.exec('DETACH DATABASE baseline');
    }
  },
};
