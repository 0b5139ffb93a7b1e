import { asViolations, checkComplaints } from '../../sqlite/checks.js';
import { inBackground } from '../../sqlite/background.js';
import { assertAllPassed, verifyMigrated } from '../verification.js';
import type { Step } from '../run.js';
import type { PreflightOut } from './preflight.js';
import type { TransformOut } from './transform.js';
import type { BackupOut } from './backup.js';

const NOT_PUBLISHED = 'Nothing was published; the production database was not touched.';

/**
 * Prove the work file against the pristine backup before it can go live. The comparison of
 * every value runs here while a worker thread runs integrity_check and foreign_key_check of
 * the same file on the other core.
 */
export const verifyStep: Step<PreflightOut & TransformOut & BackupOut> = {
  name: 'verify',
  async run(ctx, { workDb: db, workFile, backup, inspection, foreignKeysBefore }) {
    ctx.emit({ step: 'verify', phase: 'progress', done: 0, total: 1, unit: 'steps', label: 'integrity_check (worker) and comparison' });
    const structural = inBackground<unknown[][]>({ kind: 'pragma', file: workFile, pragmas: ['integrity_check', 'foreign_key_check'] });
    ctx.cleanups.push(() => structural.cancel());
    db.prepare('ATTACH DATABASE ? AS baseline').run(backup.path);
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
        background: { integrity: structural.result.then(([rows = []]) => checkComplaints(rows)), foreignKeys: structural.result.then(([, rows = []]) => asViolations(rows)) },
      });
      ctx.report.checks = result.checks;
      ctx.report.countsAfter = result.countsAfter;
      ctx.report.summary = result.summary;
      assertAllPassed(result.checks, NOT_PUBLISHED);
      return { status: 'ok', detail: `${result.checks.length} checks passed` };
    } finally {
      db.pragma('query_only = OFF');
      db.exec('DETACH DATABASE baseline');
    }
  },
};
